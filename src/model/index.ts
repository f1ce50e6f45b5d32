/**
 * The sidebar's state, split by job: `common` (settings, async values), `rows` (run rows,
 * filter and order text), `compare` (the comparison of N runs) and `track` (TrackModel: the
 * runs list, selection, open run and polling).
 */
export * from './common';
export * from './rows';
export * from './compare';
export * from './track';
