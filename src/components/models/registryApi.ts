/**
 * The registry routes of the REST API (`docs/openapi.yaml`, `/registry/...`), through the one
 * request helper of `src/api.ts`.
 */
import { IPermissions, Permission, requestAPI } from '../../api';
import type { JsonNumber } from '../../format';

export interface IVersionRun {
  run_id: string;
  run_name: string | null;
  experiment_id: string;
  status: string;
  lifecycle_stage?: string;
  metrics: Record<string, JsonNumber>;
}

export interface IModelVersion {
  name: string;
  version: number;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string | null;
  user_id: string | null;
  source: string;
  run_id: string | null;
  artifact_path: string | null;
  tags: Record<string, string>;
  aliases: string[];
  run?: IVersionRun | null;
}

export interface IRegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string | null;
  tags: Record<string, string>;
  /** alias -> version number */
  aliases: Record<string, number>;
  latest_versions?: IModelVersion[];
}

export interface IModelDetail {
  model: IRegisteredModel;
  versions: IModelVersion[];
}

export interface IAuditEntry {
  id: number;
  timestamp: number;
  actor: string;
  actor_verified: boolean;
  action: string;
  model: string;
  version: number | null;
  alias: string | null;
  key: string | null;
  old_value: string | null;
  new_value: string | null;
}

function modelPath(name: string, ...rest: string[]): string {
  return ['registry', 'models', name, ...rest]
    .map(part => encodeURIComponent(part))
    .join('/');
}

function jsonInit(method: string, body: unknown): RequestInit {
  return {
    method,
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/json' }
  };
}

/**
 * Registry calls. `expected` is the version the panel believes the alias points to (null: not
 * set); the server answers 409 when that is no longer true.
 */
export const registryApi = {
  models: async (): Promise<IRegisteredModel[]> =>
    (
      await requestAPI<{ models: IRegisteredModel[] }>('registry/models', {
        query: { limit: 1000 }
      })
    ).models,

  model: (name: string): Promise<IModelDetail> =>
    requestAPI<IModelDetail>(modelPath(name)),

  audit: async (name: string, limit = 100): Promise<IAuditEntry[]> =>
    (
      await requestAPI<{ entries: IAuditEntry[] }>(modelPath(name, 'audit'), {
        query: { limit }
      })
    ).entries,

  setAlias: (
    name: string,
    alias: string,
    version: number,
    expected: number | null
  ): Promise<IModelDetail> =>
    requestAPI<IModelDetail>(modelPath(name, 'aliases', alias), {
      init: jsonInit('PUT', { version, expected_version: expected })
    }),

  deleteAlias: (
    name: string,
    alias: string,
    expected: number
  ): Promise<IModelDetail> =>
    requestAPI<IModelDetail>(modelPath(name, 'aliases', alias), {
      query: { expected_version: expected },
      init: { method: 'DELETE' }
    }),

  /** Grants on the model and the visitor's own permission (team store). */
  permissions: (name: string): Promise<IPermissions> =>
    requestAPI<IPermissions>(
      ['permissions', 'registered_model', name]
        .map(encodeURIComponent)
        .join('/')
    ),

  grant: (
    name: string,
    principalType: string,
    principal: string,
    permission: Permission
  ): Promise<IPermissions> =>
    requestAPI<IPermissions>(
      ['permissions', 'registered_model', name]
        .map(encodeURIComponent)
        .join('/'),
      {
        init: jsonInit('PUT', {
          principal_type: principalType,
          principal,
          permission
        })
      }
    ),

  revoke: (
    name: string,
    principalType: string,
    principal: string
  ): Promise<IPermissions> =>
    requestAPI<IPermissions>(
      ['permissions', 'registered_model', name]
        .map(encodeURIComponent)
        .join('/'),
      {
        query: { principal_type: principalType, principal },
        init: { method: 'DELETE' }
      }
    ),

  rollback: (
    name: string,
    alias: string,
    expected: number | null
  ): Promise<IModelDetail> =>
    requestAPI<IModelDetail>(modelPath(name, 'aliases', alias, 'rollback'), {
      init: jsonInit('POST', { expected_version: expected })
    })
};

export type RegistryApi = typeof registryApi;
