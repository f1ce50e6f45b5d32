/**
 * Reaching the jupyter-track sidebar from a notebook widget without importing JupyterLab.
 *
 * The sidebar plugin (src/index.ts) listens for DOM events the widgets dispatch:
 *   - `jupyter-track:probe` (detail `{available: false}`): the sidebar sets `available = true`
 *     (it also sets `document.body.dataset.jpTrackSidebar`, which a view that is not yet in
 *     the page can read);
 *   - a command's id (`jupyter-track:open-run` with `{runId}`, `jupyter-track:open-trace` with
 *     `{traceId}`; detail `{..., handled: false}`): the sidebar runs it and sets
 *     `handled = true`.
 * When JupyterLab exposes its app (`window.jupyterapp`, `--LabApp.expose_app_in_browser`),
 * the command is called directly.
 */

interface Commands {
  hasCommand(id: string): boolean;
  execute(id: string, args: Record<string, unknown>): Promise<unknown>;
}

function labCommands(command: string): Commands | null {
  const app = (window as unknown as { jupyterapp?: { commands?: Commands } })
    .jupyterapp;
  return app?.commands?.hasCommand(command) ? app.commands : null;
}

/** Whether the sidebar (or JupyterLab's command) can be reached from `el`. */
export function sidebarAvailable(el: HTMLElement, command: string): boolean {
  if (document.body.dataset.jpTrackSidebar === 'true') {
    return true; // the sidebar's flag: found even while `el` is not in the page yet
  }
  const detail = { available: false };
  el.dispatchEvent(
    new CustomEvent('jupyter-track:probe', {
      detail,
      bubbles: true,
      composed: true
    })
  );
  return detail.available || labCommands(command) !== null;
}

/** Run a sidebar command with `args`; false when no sidebar answered. */
export function sidebarCommand(
  el: HTMLElement,
  command: string,
  args: Record<string, unknown>
): boolean {
  const detail = { ...args, handled: false };
  el.dispatchEvent(
    new CustomEvent(command, { detail, bubbles: true, composed: true })
  );
  if (detail.handled) {
    return true;
  }
  const commands = labCommands(command);
  if (commands) {
    void commands.execute(command, args);
    return true;
  }
  return false;
}
