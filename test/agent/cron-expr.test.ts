import { describe, expect, it } from 'vitest';
import { validate } from 'node-cron';
import { isValidCronExpression } from '../../src/domain/cron-expr.js';

const cases = [
  '17 * * * *',
  '30 3 * * *',
  '*/5 * * * *',
  '0 0 1 1 *',
  '0 9-17 * * mon-fri',
  '0 0 * * 7',
  '5,10,15 * * * *',
  '0 */2 * * *',
  '* * * * * *',
  '0 0 12 * * sun',
  'bad',
  '60 * * * *',
  '* 24 * * *',
  '* * 0 * *',
  '* * * 13 *',
  '* * * * 8',
  '*/0 * * * *',
  '1-2-3 * * * *',
  '* * * *',
  '',
];

describe('isValidCronExpression', () => {
  it.each(cases)('agrees with node-cron on %j', (expr) => {
    expect(isValidCronExpression(expr)).toBe(validate(expr));
  });
});
