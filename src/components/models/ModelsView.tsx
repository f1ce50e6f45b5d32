/**
 * The Models tab's view (pure, props-driven): the registered models, the selected model's
 * versions (source run, key metrics, aliases as chips, a menu per version and per alias) and
 * its audit trail as a timeline.
 *
 * User-written text (names, descriptions, tags, actors) is rendered as text by React.
 */
import * as React from 'react';

import { IPermissions, Permission } from '../../api';
import { AccessSection, deniedReason } from '../AccessSection';
import { formatNumber, formatTime, toNumber } from '../../format';
import type {
  IAuditEntry,
  IModelDetail,
  IModelVersion,
  IRegisteredModel
} from './registryApi';
import { VersionLineage } from '../lineage/VersionLineage';

export { deniedReason };

export const KEY_METRICS = 3;

export interface IModelsViewProps {
  models: readonly IRegisteredModel[];
  selected: string | null;
  detail: IModelDetail | null;
  audit: readonly IAuditEntry[];
  loading: boolean;
  busy: boolean;
  error: string | null;
  conflict: boolean;
  onSelect(name: string): void;
  onRefresh(): void;
  onOpenRun(runId: string): void;
  /** Ask for an alias name, then point it at `version`. */
  onNewAlias(version: number): void;
  /** Point an existing alias at `version` (after confirmation). */
  onMoveAlias(alias: string, version: number): void;
  onRemoveAlias(alias: string): void;
  onRollback(alias: string): void;
  onDismissError(): void;
  /** Grants on the model and the visitor's permission (team store), else null. */
  access?: IPermissions | null;
  onGrant?(
    principalType: string,
    principal: string,
    permission: Permission
  ): void;
  onRevoke?(principalType: string, principal: string): void;
}

/** The timeline's sentence for one audit entry. */
export function describeEntry(e: IAuditEntry): string {
  const v = (value: string | number | null): string =>
    value === null ? '?' : `v${value}`;
  switch (e.action) {
    case 'create_registered_model':
      return 'created the model';
    case 'update_registered_model':
      return 'changed the description';
    case 'delete_registered_model':
      return 'deleted the model';
    case 'set_registered_model_tag':
      return `set tag ${e.key} = ${e.new_value ?? ''}`;
    case 'delete_registered_model_tag':
      return `removed tag ${e.key}`;
    case 'create_model_version':
      return `registered version ${e.version}`;
    case 'update_model_version':
      return `changed the description of version ${e.version}`;
    case 'delete_model_version':
      return `deleted version ${e.version}`;
    case 'set_model_version_tag':
      return `set tag ${e.key} = ${e.new_value ?? ''} on version ${e.version}`;
    case 'delete_model_version_tag':
      return `removed tag ${e.key} from version ${e.version}`;
    case 'set_alias':
      return e.old_value === null
        ? `set ${e.alias} → ${v(e.new_value)}`
        : `moved ${e.alias} ${v(e.old_value)} → ${v(e.new_value)}`;
    case 'delete_alias':
      return `removed ${e.alias} (was ${v(e.old_value)})`;
    case 'rollback_alias':
      return `rolled back ${e.alias} ${v(e.old_value)} → ${v(e.new_value)}`;
    default:
      return e.action;
  }
}

function AliasChip(props: {
  alias: string;
  version: number;
  open: boolean;
  disabled: boolean;
  onToggle(): void;
  onRollback(): void;
  onRemove(): void;
}): JSX.Element {
  return (
    <span className="jp-Track-alias" data-alias={props.alias}>
      <button
        className="jp-Track-aliasChip"
        title={`${props.alias} → version ${props.version}: actions`}
        aria-haspopup="menu"
        aria-expanded={props.open}
        disabled={props.disabled}
        onClick={props.onToggle}
      >
        @{props.alias}
      </button>
      {props.open ? (
        <span className="jp-Track-menu" role="menu">
          <button role="menuitem" onClick={props.onRollback}>
            Roll back {props.alias}
          </button>
          <button role="menuitem" onClick={props.onRemove}>
            Remove {props.alias}
          </button>
        </span>
      ) : null}
    </span>
  );
}

function VersionRow(props: {
  version: IModelVersion;
  aliases: Record<string, number>;
  openMenu: string | null;
  busy: boolean;
  setOpenMenu(id: string | null): void;
  view: IModelsViewProps;
}): JSX.Element {
  const { version: mv, view } = props;
  const menuId = `version:${mv.version}`;
  const run = mv.run;
  const metrics = Object.entries(mv.run?.metrics ?? {}).slice(0, KEY_METRICS);
  const elsewhere = Object.entries(props.aliases).filter(
    ([, v]) => v !== mv.version
  );
  const close = (): void => props.setOpenMenu(null);
  return (
    <li className="jp-Track-versionRow" data-version={mv.version}>
      <div className="jp-Track-versionLine">
        <span className="jp-Track-versionNumber">v{mv.version}</span>
        <span className="jp-Track-versionRun">
          {run ? (
            <button
              className="jp-Track-link"
              title={`Open run ${run.run_id}`}
              onClick={() => view.onOpenRun(run.run_id)}
            >
              {run.run_name || run.run_id.slice(0, 8)}
            </button>
          ) : (
            <span className="jp-Track-muted" title={mv.source}>
              {mv.run_id ? `${mv.run_id.slice(0, 8)} (gone)` : mv.source}
            </span>
          )}
        </span>
        <span className="jp-Track-versionActions">
          <button
            className="jp-Track-versionMenu"
            title={
              deniedReason(view.access, 'EDIT') ??
              `Aliases of version ${mv.version}`
            }
            aria-haspopup="menu"
            aria-expanded={props.openMenu === menuId}
            disabled={props.busy || deniedReason(view.access, 'EDIT') !== null}
            onClick={() =>
              props.setOpenMenu(props.openMenu === menuId ? null : menuId)
            }
          >
            ⋯
          </button>
          {props.openMenu === menuId ? (
            <span className="jp-Track-menu" role="menu">
              {elsewhere.map(([alias, from]) => (
                <button
                  key={alias}
                  role="menuitem"
                  data-move-alias={alias}
                  onClick={() => {
                    close();
                    view.onMoveAlias(alias, mv.version);
                  }}
                >
                  Move {alias} here (from v{from})
                </button>
              ))}
              <button
                role="menuitem"
                onClick={() => {
                  close();
                  view.onNewAlias(mv.version);
                }}
              >
                Set alias…
              </button>
            </span>
          ) : null}
        </span>
      </div>
      <VersionLineage name={mv.name} version={mv.version} />
      {mv.description ? (
        <div className="jp-Track-muted jp-Track-versionDescription">
          {mv.description}
        </div>
      ) : null}
      {metrics.length ? (
        <div className="jp-Track-versionMetrics">
          {metrics.map(([key, value]) => (
            <span key={key} className="jp-Track-metric" title={key}>
              {key} {formatNumber(toNumber(value))}
            </span>
          ))}
        </div>
      ) : null}
      {mv.aliases.length ? (
        <div className="jp-Track-versionAliases">
          {mv.aliases.map(alias => (
            <AliasChip
              key={alias}
              alias={alias}
              version={mv.version}
              disabled={
                props.busy || deniedReason(view.access, 'EDIT') !== null
              }
              open={props.openMenu === `alias:${alias}`}
              onToggle={() =>
                props.setOpenMenu(
                  props.openMenu === `alias:${alias}` ? null : `alias:${alias}`
                )
              }
              onRollback={() => {
                close();
                view.onRollback(alias);
              }}
              onRemove={() => {
                close();
                view.onRemoveAlias(alias);
              }}
            />
          ))}
        </div>
      ) : null}
    </li>
  );
}

function Timeline(props: { entries: readonly IAuditEntry[] }): JSX.Element {
  if (!props.entries.length) {
    return <div className="jp-Track-muted">No changes recorded.</div>;
  }
  return (
    <ol className="jp-Track-timeline">
      {props.entries.map(e => (
        <li key={e.id} data-action={e.action}>
          <span className="jp-Track-timelineTime">
            {formatTime(e.timestamp)}
          </span>{' '}
          <span className="jp-Track-timelineActor">{e.actor}</span>
          {e.actor_verified ? null : (
            <span
              className="jp-Track-unverified"
              title="Recorded from a kernel: the name was not verified by the server"
            >
              {' '}
              (unverified)
            </span>
          )}{' '}
          <span className="jp-Track-timelineText">{describeEntry(e)}</span>
        </li>
      ))}
    </ol>
  );
}

export function ModelsView(props: IModelsViewProps): JSX.Element {
  const [openMenu, setOpenMenu] = React.useState<string | null>(null);
  const detail = props.detail;
  return (
    <div className="jp-Track-models" aria-busy={props.loading || props.busy}>
      <div className="jp-Track-modelsToolbar">
        <select
          className="jp-Track-modelPicker jp-mod-styled"
          aria-label="Registered model"
          value={props.selected ?? ''}
          onChange={event => props.onSelect(event.target.value)}
        >
          {props.models.length === 0 ? (
            <option value="">No registered models</option>
          ) : null}
          {props.models.map(m => (
            <option key={m.name} value={m.name}>
              {m.name}
            </option>
          ))}
        </select>
        <button
          className="jp-Track-refreshModels"
          title="Reload the registry"
          onClick={props.onRefresh}
          disabled={props.loading}
        >
          Refresh
        </button>
      </div>
      {props.error ? (
        <div
          className={
            'jp-Track-models-error' + (props.conflict ? ' jp-mod-conflict' : '')
          }
          role="alert"
        >
          <span>{props.error}</span>
          {props.conflict ? (
            <span className="jp-Track-muted"> The panel was reloaded.</span>
          ) : null}{' '}
          <button className="jp-Track-link" onClick={props.onDismissError}>
            Dismiss
          </button>
        </div>
      ) : null}
      {props.models.length === 0 && !props.loading ? (
        <p className="jp-Track-muted">
          Register a model with <code>jt.register_model</code> or{' '}
          <code>jt.log_model(..., registered_model_name=...)</code>.
        </p>
      ) : null}
      {detail ? (
        <>
          <div className="jp-Track-modelHeader">
            <h3 className="jp-Track-modelName">{detail.model.name}</h3>
            {detail.model.description ? (
              <p className="jp-Track-muted">{detail.model.description}</p>
            ) : null}
            <div className="jp-Track-aliasSummary">
              {Object.entries(detail.model.aliases).map(([alias, version]) => (
                <span
                  key={alias}
                  className="jp-Track-aliasSummaryItem"
                  data-alias={alias}
                >
                  @{alias} → v{version}
                </span>
              ))}
            </div>
          </div>
          <ul className="jp-Track-versions" aria-label="Versions">
            {detail.versions.map(mv => (
              <VersionRow
                key={mv.version}
                version={mv}
                aliases={detail.model.aliases}
                openMenu={openMenu}
                setOpenMenu={setOpenMenu}
                busy={props.busy}
                view={props}
              />
            ))}
          </ul>
          {props.access ? (
            <AccessSection
              access={props.access}
              busy={props.busy}
              onGrant={props.onGrant}
              onRevoke={props.onRevoke}
            />
          ) : null}
          <details className="jp-Track-section" open>
            <summary>Audit trail</summary>
            <Timeline entries={props.audit} />
          </details>
        </>
      ) : null}
    </div>
  );
}
