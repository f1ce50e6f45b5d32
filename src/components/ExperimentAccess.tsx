/**
 * The Runs tab's Access section for the chosen experiment, on the team store: who holds READ,
 * EDIT or MANAGE on it (users, hub groups, everyone), and grant/revoke for its MANAGE holders.
 * A private experiment is a grant of NO_PERMISSIONS to everyone. The service checks every
 * change and audits it; the section only shows what the visitor may do.
 */
import * as React from 'react';

import { IPermissions, Permission, requestAPI } from '../api';
import { AccessSection } from './AccessSection';

/** The three calls the section makes (the real ones by default; tests may pass others). */
export interface IExperimentAccessApi {
  permissions(experimentId: string): Promise<IPermissions>;
  grant(
    experimentId: string,
    principalType: string,
    principal: string,
    permission: Permission
  ): Promise<IPermissions>;
  revoke(
    experimentId: string,
    principalType: string,
    principal: string
  ): Promise<IPermissions>;
}

function permissionsPath(experimentId: string): string {
  return ['permissions', 'experiment', experimentId]
    .map(encodeURIComponent)
    .join('/');
}

export const experimentAccessApi: IExperimentAccessApi = {
  permissions: experimentId =>
    requestAPI<IPermissions>(permissionsPath(experimentId)),
  grant: (experimentId, principalType, principal, permission) =>
    requestAPI<IPermissions>(permissionsPath(experimentId), {
      init: {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({
          principal_type: principalType,
          principal,
          permission
        })
      }
    }),
  revoke: (experimentId, principalType, principal) =>
    requestAPI<IPermissions>(permissionsPath(experimentId), {
      query: { principal_type: principalType, principal },
      init: { method: 'DELETE' }
    })
};

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function ExperimentAccess(props: {
  experimentId: string;
  api?: IExperimentAccessApi;
}): JSX.Element {
  const api = props.api ?? experimentAccessApi;
  const { experimentId } = props;
  const [access, setAccess] = React.useState<IPermissions | null>(null);
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);

  React.useEffect(() => {
    let live = true;
    setAccess(null);
    setError(null);
    api.permissions(experimentId).then(
      found => live && setAccess(found),
      failed => live && setError(messageOf(failed))
    );
    return () => {
      live = false;
    };
  }, [experimentId, api]);

  const act = async (call: () => Promise<IPermissions>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      setAccess(await call());
    } catch (failed) {
      setError(messageOf(failed));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div
      className="jp-Track-experimentAccess"
      data-experiment-id={experimentId}
    >
      {error ? (
        <div className="jp-Track-error" role="alert">
          {error}
        </div>
      ) : null}
      {access ? (
        <AccessSection
          access={access}
          busy={busy}
          what="experiment"
          open={false}
          onGrant={(kind, who, level) =>
            void act(() => api.grant(experimentId, kind, who, level))
          }
          onRevoke={(kind, who) =>
            void act(() => api.revoke(experimentId, kind, who))
          }
        />
      ) : null}
    </div>
  );
}
