import type { Scenario } from '../lib/context';
import { dispatch } from './dispatch';
import { failover } from './failover';
import { fireLag } from './firelag';
import { memory } from './memory';
import { reconcile } from './reconcile';
import { redelivery } from './redelivery';
import { streaming } from './streaming';
import { trivialBundle } from './trivial-bundle';

/** In priority order; `--only` picks by name. */
export const SCENARIOS: Scenario[] = [
  dispatch,
  reconcile,
  trivialBundle,
  fireLag,
  redelivery,
  failover,
  memory,
  streaming,
];
