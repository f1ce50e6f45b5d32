/**
 * State of the Models tab: the model list, the selected model's versions and audit timeline,
 * and the alias actions (compare-and-set against what the panel loaded).
 *
 * It does not poll: it loads when the tab is shown, when a model is picked, on "Refresh" and
 * after every action. An alias action sends the version the panel shows for that alias; if the
 * alias moved in the meantime the server refuses (409) naming where it is now, the message is
 * kept in `error` and the panel reloads.
 */
import { ISignal, Signal } from '@lumino/signaling';

import {
  allows,
  ApiError,
  IPermissions,
  onStoreKind,
  Permission,
  storeKind
} from '../../api';
import type {
  IAuditEntry,
  IModelDetail,
  IRegisteredModel,
  RegistryApi
} from './registryApi';

export interface IActionResult {
  ok: boolean;
  /** The server's message when the action was refused. */
  message?: string;
  /** True for a 409: someone else moved the alias. */
  conflict?: boolean;
}

export class ModelsState {
  constructor(private _api: RegistryApi) {
    // the panel switched between the personal and the team store: another registry
    this._stopListening = onStoreKind(() => {
      this.selected = null;
      this.detail = null;
      this.access = null;
      void this.refresh();
    });
  }

  /** Grants on the selected model and the visitor's permission (team store only). */
  access: IPermissions | null = null;

  /** Whether the visitor may do what needs `need` on the selected model. */
  can(need: Permission): boolean {
    return this.access === null || allows(this.access.you.permission, need);
  }

  /** Grant `permission` on the selected model (MANAGE holders); audited by the service. */
  grant(
    principalType: string,
    principal: string,
    permission: Permission
  ): Promise<IActionResult> {
    const name = this._name();
    return this._actAccess(() =>
      this._api.grant(name, principalType, principal, permission)
    );
  }

  /** Revoke what a principal was granted on the selected model. */
  revoke(principalType: string, principal: string): Promise<IActionResult> {
    const name = this._name();
    return this._actAccess(() =>
      this._api.revoke(name, principalType, principal)
    );
  }

  models: IRegisteredModel[] = [];
  selected: string | null = null;
  detail: IModelDetail | null = null;
  audit: IAuditEntry[] = [];
  loading = false;
  busy = false;
  /** The last error to show (a refused action or a failed load). */
  error: string | null = null;
  /** Set when the last error was an alias conflict (the panel reloaded). */
  conflict = false;

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The version the panel shows for `alias`, or null when it shows it unset. */
  shownVersion(alias: string): number | null {
    const version = this.detail?.model.aliases[alias];
    return version === undefined ? null : version;
  }

  /** Reload the list and the selected model (its versions, aliases and timeline). */
  async refresh(): Promise<void> {
    this.loading = true;
    this._emit();
    try {
      this.models = await this._api.models();
      if (this.selected && !this.models.some(m => m.name === this.selected)) {
        this.selected = null;
      }
      if (!this.selected && this.models.length) {
        this.selected = this.models[0].name;
      }
      await this._loadSelected();
    } catch (error) {
      this.error = messageOf(error);
    } finally {
      this.loading = false;
      this._emit();
    }
  }

  async select(name: string): Promise<void> {
    this.selected = name;
    this.error = null;
    this.conflict = false;
    this._emit();
    try {
      await this._loadSelected();
    } catch (error) {
      this.error = messageOf(error);
    }
    this._emit();
  }

  /** Point `alias` at `version` (create or move). */
  setAlias(alias: string, version: number): Promise<IActionResult> {
    const name = this._name();
    const expected = this.shownVersion(alias);
    return this._act(() => this._api.setAlias(name, alias, version, expected));
  }

  /** Remove `alias`. */
  removeAlias(alias: string): Promise<IActionResult> {
    const name = this._name();
    const expected = this.shownVersion(alias);
    if (expected === null) {
      return Promise.resolve({ ok: false, message: `No alias ${alias}` });
    }
    return this._act(() => this._api.deleteAlias(name, alias, expected));
  }

  /** Move `alias` back to the version it pointed to before. */
  rollback(alias: string): Promise<IActionResult> {
    const name = this._name();
    const expected = this.shownVersion(alias);
    return this._act(() => this._api.rollback(name, alias, expected));
  }

  dispose(): void {
    this._stopListening();
    Signal.clearData(this);
  }

  private async _actAccess(
    call: () => Promise<IPermissions>
  ): Promise<IActionResult> {
    this.busy = true;
    this.error = null;
    this._emit();
    try {
      this.access = await call();
      return { ok: true };
    } catch (error) {
      this.error = messageOf(error);
      return { ok: false, message: this.error };
    } finally {
      this.busy = false;
      this._emit();
    }
  }

  private _name(): string {
    if (!this.selected) {
      throw new Error('No model selected');
    }
    return this.selected;
  }

  private async _act(
    call: () => Promise<IModelDetail>
  ): Promise<IActionResult> {
    this.busy = true;
    this.error = null;
    this.conflict = false;
    this._emit();
    try {
      this.detail = await call();
      this.audit = await this._api.audit(this.detail.model.name);
      this.access = await this._loadAccess(this.detail.model.name);
      this._replaceListEntry();
      return { ok: true };
    } catch (error) {
      const message = messageOf(error);
      const conflict = error instanceof ApiError && error.status === 409;
      this.error = message;
      this.conflict = conflict;
      if (conflict) {
        // the alias moved since the panel loaded: show where it is now
        try {
          await this._loadSelected();
        } catch (reload) {
          this.error = `${message} (${messageOf(reload)})`;
        }
      }
      return { ok: false, message, conflict };
    } finally {
      this.busy = false;
      this._emit();
    }
  }

  private async _loadSelected(): Promise<void> {
    if (!this.selected) {
      this.detail = null;
      this.audit = [];
      return;
    }
    const name = this.selected;
    const [detail, audit, access] = await Promise.all([
      this._api.model(name),
      this._api.audit(name),
      this._loadAccess(name)
    ]);
    if (this.selected === name) {
      this.detail = detail;
      this.audit = audit;
      this.access = access;
      this._replaceListEntry();
    }
  }

  /** The model's grants when the panel shows the team store (a personal store has none). */
  private async _loadAccess(name: string): Promise<IPermissions | null> {
    if (storeKind() !== 'team') {
      return null;
    }
    return this._api.permissions(name);
  }

  private _replaceListEntry(): void {
    const detail = this.detail;
    if (!detail) {
      return;
    }
    this.models = this.models.map(m =>
      m.name === detail.model.name ? { ...m, ...detail.model } : m
    );
  }

  private _emit(): void {
    this._changed.emit();
  }

  private _changed = new Signal<this, void>(this);
  private _stopListening: () => void;
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  return String(error);
}
