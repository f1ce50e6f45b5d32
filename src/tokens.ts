import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { Widget } from '@lumino/widgets';

import type { TrackModel } from './model';

/**
 * One tab of the Track panel ("Runs", "Run", "Compare", and later "Models").
 *
 * Other plugins add tabs through {@link ITrackSidebar.addTab}; for example the model registry
 * plugin (`src/components/models/`) adds a "Models" tab with rank 400.
 */
export interface ITrackTab {
  /** Unique id, e.g. `models`; the tab node gets `data-track-tab="<id>"`. */
  readonly id: string;
  /** Text on the tab. */
  readonly label: string;
  /** Lower ranks come first (Runs 100, Run 200, Compare 300). */
  readonly rank?: number;
  /** Builds the tab's content once, when the tab is added. */
  create(model: TrackModel): Widget;
}

/**
 * The Track sidebar: its model (experiments, runs, selection, polling) and its tab registry.
 */
export interface ITrackSidebar {
  /** The shared state: other tabs read the selection and listen to its signals. */
  readonly model: TrackModel;
  /** The panel widget in the left area. */
  readonly widget: Widget;
  /** Add a tab; dispose the result to remove it again. */
  addTab(tab: ITrackTab): IDisposable;
  /** Show the panel and the tab with this id. */
  activateTab(id: string): void;
}

export const ITrackSidebar = new Token<ITrackSidebar>(
  'jupyter-track:ITrackSidebar',
  'The Track sidebar: shared run state and a registry of tabs.'
);
