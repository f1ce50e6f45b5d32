/**
 * The Access section of the Models tab and of the Runs tab's experiment (team store only):
 * who holds READ, EDIT or MANAGE, and grant/revoke for MANAGE holders. Pure and props-driven;
 * user-written names are rendered as text by React.
 */
import * as React from 'react';

import { IPermissions, Permission, PERMISSIONS } from '../api';

/** Why an action needing `need` is disabled for the visitor, or null when it is allowed. */
export function deniedReason(
  access: IPermissions | null | undefined,
  need: Permission,
  what = 'model'
): string | null {
  if (!access) {
    return null;
  }
  const held = access.you.permission;
  return PERMISSIONS.indexOf(held) >= PERMISSIONS.indexOf(need)
    ? null
    : `You need ${need} on this ${what} (you have ${held}); a MANAGE holder can grant it.`;
}

/**
 * Who holds what on an experiment or a registered model (team store); MANAGE holders grant
 * and revoke (each change is audited by the service), everyone else sees why they cannot.
 */
export function AccessSection(props: {
  access: IPermissions;
  busy: boolean;
  /** 'model' or 'experiment': the object, in the messages. */
  what?: string;
  /** Shown unfolded (the Models tab) or folded (the Runs tab); unfolded by default. */
  open?: boolean;
  onGrant?(
    principalType: string,
    principal: string,
    permission: Permission
  ): void;
  onRevoke?(principalType: string, principal: string): void;
}): JSX.Element {
  const { access } = props;
  const what = props.what ?? 'model';
  const manage = deniedReason(access, 'MANAGE', what);
  const [kind, setKind] = React.useState('user');
  const [who, setWho] = React.useState('');
  const [level, setLevel] = React.useState<Permission>('EDIT');
  return (
    <details
      className="jp-Track-section jp-Track-access"
      open={props.open ?? true}
    >
      <summary>Access{what === 'model' ? '' : ` to this ${what}`}</summary>
      <div className="jp-Track-muted jp-Track-accessYou">
        You ({access.you.name}) hold {access.you.permission}
        {access.you.admin ? ' (admin)' : ''}.
      </div>
      <ul className="jp-Track-grants" aria-label="Grants">
        {access.grants.map(g => (
          <li
            key={`${g.principal_type}:${g.principal}`}
            className="jp-Track-grant"
            data-principal={g.principal}
          >
            <span className="jp-Track-grantWho">
              {g.principal_type === 'everyone'
                ? 'everyone'
                : `${g.principal_type} ${g.principal}`}
            </span>{' '}
            <span className="jp-Track-grantLevel">{g.permission}</span>{' '}
            <span className="jp-Track-muted">by {g.granted_by}</span>{' '}
            <button
              className="jp-Track-link jp-Track-revoke"
              disabled={props.busy || manage !== null}
              title={manage ?? `Revoke what ${g.principal} was granted`}
              onClick={() => props.onRevoke?.(g.principal_type, g.principal)}
            >
              Revoke
            </button>
          </li>
        ))}
      </ul>
      <form
        className="jp-Track-grantForm"
        title={manage ?? `Grant a permission on this ${what}`}
        onSubmit={event => {
          event.preventDefault();
          if (kind === 'everyone' || who.trim()) {
            props.onGrant?.(kind, who.trim(), level);
            setWho('');
          }
        }}
      >
        <select
          aria-label="Grant to"
          className="jp-mod-styled"
          value={kind}
          disabled={manage !== null}
          onChange={event => setKind(event.target.value)}
        >
          <option value="user">user</option>
          <option value="group">group</option>
          <option value="everyone">everyone</option>
        </select>
        <input
          aria-label="User or group name"
          className="jp-Track-grantName"
          placeholder={kind === 'group' ? 'hub group' : 'hub user'}
          value={who}
          disabled={manage !== null || kind === 'everyone'}
          onChange={event => setWho(event.target.value)}
        />
        <select
          aria-label="Permission"
          className="jp-mod-styled"
          value={level}
          disabled={manage !== null}
          onChange={event => setLevel(event.target.value as Permission)}
        >
          {PERMISSIONS.map(p => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
        <button
          type="submit"
          className="jp-Track-grantButton"
          disabled={props.busy || manage !== null}
        >
          Grant
        </button>
      </form>
    </details>
  );
}
