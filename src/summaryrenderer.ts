/**
 * The renderer of a `%%track` cell's run summary (MIME type `RUN_SUMMARY_MIME`).
 *
 * `%%track` displays its summary as display data, not as a widget: the payload under a
 * jupyter-track MIME type with `text/html` and `text/plain` fallbacks. This plugin draws that
 * payload with the summary view (`src/summaryview.ts`, the same view as the summary widget),
 * so it costs the kernel no comm, renders again when a saved notebook is reopened (no kernel
 * and no widget state needed) and other front ends show the HTML. The renderer is `safe`: it
 * writes text only, so untrusted notebooks render it too. "Open in sidebar" runs the
 * sidebar's `jupyter-track:open-run` command.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import {
  parseRunSummary,
  renderRunSummary,
  RUN_SUMMARY_MIME
} from './summaryview';

const OPEN_RUN = 'jupyter-track:open-run';

/** Below `text/html` (50): JupyterLab picks this renderer when both are in a bundle. */
const RANK = 20;

/** Draws one run summary output. */
export class RunSummaryRenderer
  extends Widget
  implements IRenderMime.IRenderer
{
  constructor(
    private _commands: JupyterFrontEnd['commands'],
    private _mimeType: string = RUN_SUMMARY_MIME
  ) {
    super();
    this.addClass('jp-Track-summaryRenderer');
    this.node.dataset.mimeType = _mimeType; // as JupyterLab's own renderers
    // the sidebar may register its command after this output rendered: draw again then
    _commands.commandChanged.connect(this._onCommandChanged, this);
  }

  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    this._data = model.data[this._mimeType];
    this._draw();
    return Promise.resolve();
  }

  dispose(): void {
    if (!this.isDisposed) {
      this._commands.commandChanged.disconnect(this._onCommandChanged, this);
    }
    super.dispose();
  }

  private _onCommandChanged(
    _: unknown,
    change: { id?: string; type: string }
  ): void {
    if (change.id === OPEN_RUN && this._data !== undefined) {
      this._draw();
    }
  }

  private _draw(): void {
    const commands = this._commands;
    try {
      renderRunSummary(this.node, parseRunSummary(this._data), {
        available: commands.hasCommand(OPEN_RUN),
        open: runId => {
          if (!commands.hasCommand(OPEN_RUN)) {
            return false;
          }
          void commands.execute(OPEN_RUN, { runId });
          return true;
        }
      });
    } catch (error) {
      const message = document.createElement('div');
      message.className = 'jp-Track-w-error';
      message.textContent = `jupyter-track: this run summary cannot be shown: ${
        error instanceof Error ? error.message : String(error)
      }`;
      this.node.classList.add('jp-Track-w');
      this.node.replaceChildren(message);
    }
  }

  private _data: unknown = undefined;
}

/** The renderer factory; "Open in sidebar" runs the sidebar's command in `commands`. */
export function runSummaryRendererFactory(
  commands: JupyterFrontEnd['commands']
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [RUN_SUMMARY_MIME],
    defaultRank: RANK,
    createRenderer: options =>
      new RunSummaryRenderer(commands, options.mimeType)
  };
}

export const summaryRendererPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-track:run-summary-renderer',
  description:
    "Renders a %%track cell's run summary (its MIME type) in notebooks and output views.",
  autoStart: true,
  requires: [IRenderMimeRegistry],
  activate: (app: JupyterFrontEnd, rendermime: IRenderMimeRegistry): void => {
    rendermime.addFactory(runSummaryRendererFactory(app.commands), RANK);
  }
};
