import globalSetup from './global-setup';
import { assertBuilt } from './app-process';

/** E2E tests run the built apps: fail at once, with the fix, when they are missing. */
export default async function e2eSetup(): Promise<void> {
  assertBuilt();
  await globalSetup();
}
