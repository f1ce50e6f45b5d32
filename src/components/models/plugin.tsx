/**
 * The "Models" tab of the Track panel: registered models, versions, aliases (set, move,
 * remove, roll back, each confirmed) and the audit trail. Added to the panel through
 * `ITrackSidebar.addTab` with rank 400.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  Dialog,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';
import { ReactWidget } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import * as React from 'react';

import { ITrackSidebar } from '../../tokens';
import { ModelsView } from './ModelsView';
import { registryApi, RegistryApi } from './registryApi';
import { IActionResult, ModelsState } from './state';

export const MODELS_TAB_ID = 'models';
const ALIAS_NAME = /^[A-Za-z0-9_-]+$/;

async function confirm(
  title: string,
  body: string,
  label: string,
  warn = false
): Promise<boolean> {
  const result = await showDialog({
    title,
    body,
    buttons: [
      Dialog.cancelButton(),
      warn ? Dialog.warnButton({ label }) : Dialog.okButton({ label })
    ]
  });
  return result.button.accept;
}

function report(result: IActionResult, done: string): void {
  if (result.ok) {
    Notification.success(done, { autoClose: 3000 });
  } else if (result.message) {
    Notification.error(result.message, { autoClose: 8000 });
  }
}

/** The tab's widget: renders {@link ModelsView} from a {@link ModelsState}. */
export class ModelsTab extends ReactWidget {
  constructor(
    readonly state: ModelsState,
    private _openRun: (runId: string) => void
  ) {
    super();
    this.addClass('jp-Track-modelsTab');
    state.changed.connect(() => this.update());
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this.state.refresh();
  }

  dispose(): void {
    if (!this.isDisposed) {
      this.state.dispose();
    }
    super.dispose();
  }

  private async _newAlias(version: number): Promise<void> {
    const name = this.state.selected;
    const answer = await InputDialog.getText({
      title: `Set an alias on version ${version} of ${name}`,
      label: 'Alias (letters, digits, _ and -; not latest or v<N>)',
      placeholder: 'champion',
      okLabel: 'Set alias'
    });
    const alias = (answer.value ?? '').trim();
    if (!answer.button.accept || !alias) {
      return;
    }
    if (!ALIAS_NAME.test(alias)) {
      // the server says the same; saying it here avoids a round trip
      Notification.error(
        `Alias ${JSON.stringify(alias)}: use only letters, digits, _ and -`,
        { autoClose: 8000 }
      );
      return;
    }
    const from = this.state.shownVersion(alias);
    if (
      from !== null &&
      from !== version &&
      !(await confirm(
        'Move alias',
        `Move ${alias} of ${name} from version ${from} to version ${version}?`,
        'Move'
      ))
    ) {
      return;
    }
    report(
      await this.state.setAlias(alias, version),
      `${alias} → version ${version}`
    );
  }

  private async _moveAlias(alias: string, version: number): Promise<void> {
    const from = this.state.shownVersion(alias);
    const name = this.state.selected;
    if (
      await confirm(
        'Move alias',
        `Move ${alias} of ${name} from version ${from} to version ${version}?`,
        'Move'
      )
    ) {
      report(
        await this.state.setAlias(alias, version),
        `${alias} → version ${version}`
      );
    }
  }

  private async _removeAlias(alias: string): Promise<void> {
    const from = this.state.shownVersion(alias);
    if (
      await confirm(
        'Remove alias',
        `Remove ${alias} from ${this.state.selected} (it points to version ${from})?`,
        'Remove',
        true
      )
    ) {
      report(await this.state.removeAlias(alias), `${alias} removed`);
    }
  }

  private async _rollback(alias: string): Promise<void> {
    const from = this.state.shownVersion(alias);
    if (
      await confirm(
        'Roll back alias',
        `Roll ${alias} of ${this.state.selected} back from version ${from} to the version it pointed to before?`,
        'Roll back',
        true
      )
    ) {
      const result = await this.state.rollback(alias);
      report(
        result,
        `${alias} rolled back to version ${this.state.shownVersion(alias)}`
      );
    }
  }

  render(): JSX.Element {
    const s = this.state;
    return (
      <ModelsView
        models={s.models}
        selected={s.selected}
        detail={s.detail}
        audit={s.audit}
        loading={s.loading}
        busy={s.busy}
        error={s.error}
        conflict={s.conflict}
        onSelect={name => void s.select(name)}
        onRefresh={() => void s.refresh()}
        onOpenRun={this._openRun}
        onNewAlias={version => void this._newAlias(version)}
        onMoveAlias={(alias, version) => void this._moveAlias(alias, version)}
        onRemoveAlias={alias => void this._removeAlias(alias)}
        onRollback={alias => void this._rollback(alias)}
        access={s.access}
        onGrant={(kind, who, level) =>
          void s
            .grant(kind, who, level)
            .then(r => report(r, `Granted ${level} to ${who || kind}.`))
        }
        onRevoke={(kind, who) =>
          void s
            .revoke(kind, who)
            .then(r => report(r, `Revoked ${who || kind}.`))
        }
        onDismissError={() => {
          s.error = null;
          s.conflict = false;
          this.update();
        }}
      />
    );
  }
}

/** Build the tab (exported for other front ends and for tests). */
export function createModelsTab(
  openRun: (runId: string) => void,
  api: RegistryApi = registryApi
): ModelsTab {
  return new ModelsTab(new ModelsState(api), openRun);
}

export const modelsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-track:models',
  description:
    'The Models tab of the Track panel: model registry, aliases, rollback, audit trail.',
  autoStart: true,
  requires: [ITrackSidebar],
  activate: (app: JupyterFrontEnd, sidebar: ITrackSidebar): void => {
    sidebar.addTab({
      id: MODELS_TAB_ID,
      label: 'Models',
      rank: 400,
      create: () =>
        createModelsTab(runId => {
          void app.commands.execute('jupyter-track:open-run', { runId });
        })
    });
  }
};
