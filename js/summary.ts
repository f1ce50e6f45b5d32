/**
 * The run summary widget (`jupyter_track.widgets.summary.summary()`): the one run summary view
 * of `src/summaryview.ts` (also drawn by the JupyterLab renderer of `%%track` outputs), fed by
 * the widget's traits, which hold the same payload.
 *
 * The button talks to the sidebar through DOM events (js/lib/sidebar.ts), so the widget needs
 * no JupyterLab import and works (the button disabled) where the extension is absent.
 */

import { IRunSummary, renderRunSummary } from '../src/summaryview';
import { sidebarAvailable, sidebarCommand } from './lib/sidebar';
import type { Cleanup, WidgetModule } from './lib/types';

type SummaryTraits = IRunSummary;

const COMMAND = 'jupyter-track:open-run';

const summary: WidgetModule<SummaryTraits> = {
  render({ model, el }): Cleanup {
    const draw = (): void => {
      renderRunSummary(
        el,
        {
          run: model.get('run'),
          previous: model.get('previous'),
          params: model.get('params'),
          metrics: model.get('metrics'),
          notes: model.get('notes')
        },
        {
          available: sidebarAvailable(el, COMMAND),
          open: runId => sidebarCommand(el, COMMAND, { runId })
        }
      );
    };
    draw();
    const events =
      'change:run change:params change:metrics change:notes change:previous';
    model.on(events, draw);
    return () => model.off(events, draw);
  }
};

export default summary;
