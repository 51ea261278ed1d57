// E2E tests start built processes and kill them; their own deadlines (waitFor) say what was slow.
jest.setTimeout(120_000);
