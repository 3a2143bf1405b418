/**
 * Validates cron expressions (5 fields, or 6 with seconds first, as node-cron accepts) without
 * loading the scheduler, so settings can be checked at start-up cheaply. Pure.
 */
const FIELDS: readonly (readonly [min: number, max: number, names?: readonly string[]])[] = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12, ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']],
  [0, 7, ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']],
];

function value(token: string, min: number, names: readonly string[] | undefined): number | undefined {
  const named = names?.indexOf(token.toLowerCase().slice(0, 3)) ?? -1;
  if (named >= 0 && token.length >= 3) return named + min;
  return /^\d+$/.test(token) ? Number(token) : undefined;
}

function validPart(part: string, min: number, max: number, names?: readonly string[]): boolean {
  const [range, step, ...rest] = part.split('/');
  if (rest.length > 0 || range === undefined || range === '') return false;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) > 0)) return false;
  if (range === '*') return true;
  const [a, b, ...more] = range.split('-');
  if (more.length > 0 || a === undefined) return false;
  const lo = value(a, min, names);
  const hi = b === undefined ? lo : value(b, min, names);
  return lo !== undefined && hi !== undefined && lo >= min && hi <= max && lo <= hi;
}

export function isValidCronExpression(expr: string): boolean {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) return false;
  const fields = parts.length === 6 ? FIELDS : FIELDS.slice(1);
  return parts.every((p, i) => {
    const f = fields[i];
    return f !== undefined && p.split(',').every((x) => validPart(x, f[0], f[1], f[2]));
  });
}
