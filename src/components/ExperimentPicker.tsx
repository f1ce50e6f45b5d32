/**
 * The experiment picker: every experiment with its run count, or all of them.
 */
import * as React from 'react';

import type { IExperiment } from '../api';

export interface IExperimentPickerProps {
  experiments: readonly IExperiment[];
  /** '' for every experiment. */
  value: string;
  onChange(experimentId: string): void;
  /** The select's class (the Runs tab's picker by default). */
  className?: string;
}

export function ExperimentPicker(props: IExperimentPickerProps): JSX.Element {
  const total = props.experiments.reduce((n, e) => n + (e.run_count ?? 0), 0);
  return (
    <select
      className={(props.className ?? 'jp-Track-experiment') + ' jp-mod-styled'}
      aria-label="Experiment"
      title="Experiment"
      value={props.value}
      onChange={event => props.onChange(event.target.value)}
    >
      <option value="">All experiments ({total})</option>
      {props.experiments.map(e => (
        <option key={e.experiment_id} value={e.experiment_id}>
          {e.name} ({e.run_count})
        </option>
      ))}
    </select>
  );
}
