/** The agent client's list of writing operations (kept light for CLI start-up) matches the table. */
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/app/operations.js';
import { WRITING_OPERATIONS } from '../../src/app/writing-operations.js';

describe('WRITING_OPERATIONS', () => {
  it('names exactly the operations whose writes flag is set', () => {
    const writing = Object.entries(OPERATIONS)
      .filter(([, o]) => o.writes)
      .map(([name]) => name)
      .sort();
    expect([...WRITING_OPERATIONS].sort()).toEqual(writing);
  });
});
