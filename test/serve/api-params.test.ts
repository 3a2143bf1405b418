/** The search box and the page's URL parameters as parameters of the `search` operation. */
import { describe, expect, it } from 'vitest';
import { boxToFilters, searchParams } from '../../src/web/api.routes.js';

describe('the search box', () => {
  it('reads category:value and #word as tags, the rest as prompt words, phrases kept', () => {
    expect(boxToFilters('style:cyberpunk #forest neon "rainy night" city')).toEqual({
      tags: ['style:cyberpunk', 'forest'],
      prompt: 'neon "rainy night" city',
    });
    expect(boxToFilters('')).toEqual({});
    expect(boxToFilters('#')).toEqual({ prompt: '#' });
  });

  it('merges facet parameters, lists and paging; drops what is not a number', () => {
    const q = new URLSearchParams(
      'q=%23cyberpunk+neon&tags=subject:city&formats=png&formats=jpeg&media_type=image&sort=oldest&offset=100&limit=x&facets=1&since=2024-03&until=2024-03',
    );
    expect(searchParams(q)).toEqual({
      facets: true,
      tags: ['cyberpunk', 'subject:city'],
      prompt: 'neon',
      formats: ['png', 'jpeg'],
      media_type: ['image'],
      sort: 'oldest',
      offset: 100,
      since: '2024-03',
      until: '2024-03',
    });
  });
});
