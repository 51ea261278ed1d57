import { EXECUTION_ID_PATTERN, newExecutionId } from './execution-id';

describe('newExecutionId', () => {
  it('is a ULID that sorts by creation time and differs within one millisecond', () => {
    const a = newExecutionId(1_700_000_000_000);
    const b = newExecutionId(1_700_000_000_001);
    const c = newExecutionId(1_700_000_000_001);
    expect(a).toMatch(EXECUTION_ID_PATTERN);
    expect(a < b).toBe(true);
    expect(b).not.toBe(c);
    expect(b.slice(0, 10)).toBe(c.slice(0, 10));
    expect(newExecutionId(0).slice(0, 10)).toBe('0000000000');
  });
});
