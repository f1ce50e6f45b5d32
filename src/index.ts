/**
 * jupyter-track's JupyterLab extension: the Track panel in the left area, its commands and
 * settings, and "Go to cell".
 */
import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  IThemeManager,
  Notification,
  WidgetTracker
} from '@jupyterlab/apputils';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { PageConfig } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';

import { api, IRunDetail } from './api';
import { modelsPlugin } from './components/models/plugin';
import { tracesPlugin } from './components/traces/plugin';
import type { Highlighter } from './components/Highlighted';
import { ITrackSettings, MAX_COMPARE, MIN_COMPARE, TrackModel } from './model';
import { TrackMainView, mainViewId } from './mainview';
import {
  IPanelServices,
  isTrackViewKind,
  ITrackViewNav,
  TrackPanel,
  TrackViewKind
} from './panel';
import { ITrackSidebar } from './tokens';
import { summaryRendererPlugin } from './summaryrenderer';

export { ITrackSidebar } from './tokens';
export type { ITrackTab } from './tokens';
export { TrackModel } from './model';

const PLUGIN_ID = 'jupyter-track:plugin';

export const CommandIDs = {
  openPanel: 'jupyter-track:open-panel',
  refreshRuns: 'jupyter-track:refresh-runs',
  compareSelected: 'jupyter-track:compare-selected',
  openRun: 'jupyter-track:open-run',
  goToCell: 'jupyter-track:go-to-cell',
  openInMain: 'jupyter-track:open-in-main-area'
} as const;

const TRACK_ICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">' +
  '<path class="jp-icon3" fill="#616161" d="M3 17h4v4H3zm7-6h4v10h-4zm7-8h4v18h-4z"/></svg>';

export const trackIcon = new LabIcon({
  name: 'jupyter-track:icon',
  svgstr: TRACK_ICON_SVG
});

/** A notebook path from a run (absolute, as the kernel saw it) as a server contents path. */
export function contentsPathCandidates(
  notebook: string,
  serverRoot: string
): string[] {
  const path = notebook.replace(/\\/g, '/');
  if (!path.startsWith('/') && !/^[A-Za-z]:\//.test(path)) {
    return [path];
  }
  const root = serverRoot.replace(/\\/g, '/').replace(/\/+$/, '');
  const candidates: string[] = [];
  if (root && path.startsWith(root + '/')) {
    candidates.push(path.slice(root.length + 1));
  }
  // The root may be shown as "~/..." or be a symlink: try ever shorter tails of the path.
  const parts = path.split('/').filter(p => p.length > 0);
  for (let i = 1; i < parts.length && candidates.length < 8; i++) {
    const tail = parts.slice(i).join('/');
    if (!candidates.includes(tail)) {
      candidates.push(tail);
    }
  }
  return candidates;
}

async function resolveNotebook(
  app: JupyterFrontEnd,
  notebook: string
): Promise<string> {
  const candidates = contentsPathCandidates(
    notebook,
    PageConfig.getOption('serverRoot')
  );
  for (const candidate of candidates) {
    try {
      await app.serviceManager.contents.get(candidate, { content: false });
      return candidate;
    } catch {
      // not this one
    }
  }
  throw new Error(
    `The notebook ${notebook} is not under this Jupyter server's root folder.`
  );
}

/** Open the notebook, select the cell with this id and scroll it into view. */
async function goToCell(
  app: JupyterFrontEnd,
  docManager: IDocumentManager,
  notebook: string,
  cellId: string
): Promise<void> {
  const path = await resolveNotebook(app, notebook);
  const widget = docManager.openOrReveal(path);
  if (!(widget instanceof NotebookPanel)) {
    throw new Error(`${path} did not open as a notebook.`);
  }
  await widget.context.ready;
  await widget.revealed;
  const content = widget.content;
  const index = content.widgets.findIndex(cell => cell.model.id === cellId);
  if (index < 0) {
    throw new Error(
      `The cell that produced this run (id ${cellId}) is no longer in ${path}.`
    );
  }
  app.shell.activateById(widget.id);
  content.deselectAll();
  content.activeCellIndex = index;
  content.mode = 'command';
  const cell = content.widgets[index];
  await content.scrollToCell(cell, 'center');
  cell.node.focus();
}

function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const sidebarPlugin: JupyterFrontEndPlugin<ITrackSidebar> = {
  id: PLUGIN_ID,
  description: 'The Track panel: explore, compare and chart runs.',
  autoStart: true,
  provides: ITrackSidebar,
  requires: [IDocumentManager],
  optional: [
    ISettingRegistry,
    ICommandPalette,
    ILayoutRestorer,
    IThemeManager,
    IEditorLanguageRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    themeManager: IThemeManager | null,
    languages: IEditorLanguageRegistry | null
  ): ITrackSidebar => {
    const model = new TrackModel();

    let highlight: Highlighter | null = null;
    if (languages) {
      const language =
        languages.findByName('ipython') ?? languages.findByName('python');
      highlight = (code, el) => languages.highlight(code, language, el);
    }

    const runGoToCell = async (run: IRunDetail): Promise<void> => {
      const notebook = run.notebook ?? run.provenance?.notebook;
      if (!notebook || !run.cell_id) {
        Notification.warning('This run was not made by a notebook cell.', {
          autoClose: 5000
        });
        return;
      }
      try {
        await goToCell(app, docManager, notebook, run.cell_id);
      } catch (error) {
        Notification.error(
          error instanceof Error ? error.message : String(error),
          {
            autoClose: 8000
          }
        );
      }
    };

    // "Open in main area": one full-width tab per view, on the same model as the panel.
    const mainTracker = new WidgetTracker<TrackMainView>({
      namespace: 'jupyter-track-main'
    });
    const mainNav: ITrackViewNav = {
      openRun: runId => {
        model.openRun(runId);
        openInMain('run');
      },
      compare: () => {
        if (model.compareSelected()) {
          openInMain('compare');
        }
      },
      showRuns: () => openInMain('runs')
    };
    const openInMain = (kind: TrackViewKind): TrackMainView => {
      let view = mainTracker.find(w => w.kind === kind);
      if (!view) {
        view = new TrackMainView(kind, model, services, mainNav, trackIcon);
        void mainTracker.add(view);
        app.shell.add(view, 'main');
      }
      app.shell.activateById(view.id);
      return view;
    };

    const services: IPanelServices = {
      openInMain: kind => void openInMain(kind),
      goToCell: run => void runGoToCell(run),
      openFile: path => void docManager.openOrReveal(path),
      download: (run, path) => {
        api
          .artifactBlob(run.run_id, path)
          .then(blob => download(blob, path.split('/').pop() || 'artifact'))
          .catch(error =>
            Notification.error(
              `Download failed: ${String(error.message ?? error)}`,
              {
                autoClose: 8000
              }
            )
          );
      },
      loadImage: async (run, path) =>
        URL.createObjectURL(await api.artifactBlob(run.run_id, path)),
      highlight,
      isLight: () =>
        themeManager && themeManager.theme
          ? themeManager.isLight(themeManager.theme)
          : document.body.dataset.jpThemeLight !== 'false',
      themeChanged: themeManager ? themeManager.themeChanged : null
    };
    const panel = new TrackPanel(model, services);
    panel.title.icon = trackIcon;
    app.shell.add(panel, 'left', { rank: 900 });
    if (restorer) {
      restorer.add(panel, 'jupyter-track-sidebar');
    }

    // ------------------------------------------------------------------------ commands
    const { commands } = app;
    commands.addCommand(CommandIDs.openPanel, {
      label: 'Track: Open Runs Panel',
      caption: 'Show the Track panel (experiments and runs)',
      icon: args => (args.isPalette ? undefined : trackIcon),
      execute: () => {
        app.shell.activateById(panel.id);
        panel.activateTab('runs');
      }
    });
    commands.addCommand(CommandIDs.refreshRuns, {
      label: 'Track: Refresh Runs',
      caption: 'Reload experiments and runs from the store',
      execute: () => model.refresh()
    });
    commands.addCommand(CommandIDs.compareSelected, {
      label: () => `Track: Compare Selected Runs (${model.selection.size})`,
      caption: `Compare the runs selected in the Track panel (${MIN_COMPARE} to ${MAX_COMPARE})`,
      isEnabled: () =>
        model.selection.size >= MIN_COMPARE &&
        model.selection.size <= MAX_COMPARE,
      execute: () => {
        if (model.compareSelected()) {
          app.shell.activateById(panel.id);
          panel.activateTab('compare');
        }
      }
    });
    commands.addCommand(CommandIDs.openRun, {
      label: 'Track: Open Run',
      caption: 'Show one run in the Track panel (args: runId)',
      execute: args => {
        const runId = String(args.runId ?? '');
        if (runId) {
          model.openRun(runId);
          app.shell.activateById(panel.id);
          panel.activateTab('run');
        }
      }
    });
    commands.addCommand(CommandIDs.openInMain, {
      label: args =>
        isTrackViewKind(args.view)
          ? `Track: Open ${args.view === 'run' ? 'Run' : args.view === 'compare' ? 'Compare' : 'Runs'} in Main Area`
          : 'Track: Open in Main Area',
      caption:
        "A full-width tab of the Track panel's view (args: view = runs, run or compare; default: the panel's tab)",
      execute: args => {
        const current = panel.currentTab;
        const kind: TrackViewKind = isTrackViewKind(args.view)
          ? args.view
          : isTrackViewKind(current)
            ? current
            : 'runs';
        openInMain(kind);
      }
    });
    if (restorer) {
      void restorer.restore(mainTracker, {
        command: CommandIDs.openInMain,
        args: widget => ({ view: widget.kind }),
        name: widget => mainViewId(widget.kind)
      });
    }
    commands.addCommand(CommandIDs.goToCell, {
      label: 'Track: Go to the Cell of a Run',
      caption:
        'Open the notebook and select the cell that produced a run (args: runId)',
      execute: async args => {
        const runId = String(args.runId ?? model.activeRunId ?? '');
        if (runId) {
          await runGoToCell(await api.run(runId));
        }
      }
    });
    // The notebook widgets (js/summary.ts, js/traces.ts) reach the panel through DOM events, so they need
    // no JupyterLab import: `jupyter-track:probe` asks whether the panel is here, and
    // `jupyter-track:open-run` opens a run in it.
    const onProbe = (event: Event): void => {
      const detail = (event as CustomEvent<{ available?: boolean }>).detail;
      if (detail && typeof detail === 'object') {
        detail.available = true;
      }
    };
    const onOpenRun = (event: Event): void => {
      const detail = (
        event as CustomEvent<{ runId?: unknown; handled?: boolean }>
      ).detail;
      if (detail && typeof detail.runId === 'string' && detail.runId) {
        detail.handled = true;
        void commands.execute(CommandIDs.openRun, { runId: detail.runId });
      }
    };
    // Also a plain flag, for widgets that render before their element is in the page (an
    // event from a detached element does not reach the document).
    document.body.dataset.jpTrackSidebar = 'true';
    document.addEventListener('jupyter-track:probe', onProbe);
    document.addEventListener(CommandIDs.openRun, onOpenRun);
    panel.disposed.connect(() => {
      delete document.body.dataset.jpTrackSidebar;
      document.removeEventListener('jupyter-track:probe', onProbe);
      document.removeEventListener(CommandIDs.openRun, onOpenRun);
    });

    model.changed.connect((_, kind) => {
      if (kind === 'selection') {
        commands.notifyCommandChanged(CommandIDs.compareSelected);
      }
    });
    if (palette) {
      const category = 'Track';
      for (const command of [
        CommandIDs.openPanel,
        CommandIDs.refreshRuns,
        CommandIDs.compareSelected,
        CommandIDs.openInMain
      ]) {
        palette.addItem({ command, category });
      }
    }

    // ------------------------------------------------------------------------ settings
    const applySettings = (settings: ISettingRegistry.ISettings): void => {
      const composite = settings.composite as Partial<ITrackSettings>;
      model.updateSettings({
        pollInterval: Number(composite.pollInterval ?? 1000),
        defaultColumns: Array.isArray(composite.defaultColumns)
          ? composite.defaultColumns.map(String)
          : ['metrics.*', 'params.*'],
        maxRuns: Number(composite.maxRuns ?? 10000)
      });
    };
    const ready = settingRegistry
      ? settingRegistry
          .load(PLUGIN_ID)
          .then(settings => {
            applySettings(settings);
            settings.changed.connect(applySettings);
          })
          .catch(reason =>
            console.warn('jupyter-track: settings not loaded', reason)
          )
      : Promise.resolve();
    void Promise.all([app.restored, ready]).then(() => model.start());

    return panel;
  }
};

export default [
  sidebarPlugin,
  modelsPlugin,
  tracesPlugin,
  summaryRendererPlugin
];
