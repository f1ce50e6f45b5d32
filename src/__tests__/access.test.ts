import { describe, expect, it } from 'vitest';

import { allows, IPermissions, Permission } from '../api';
import { deniedReason } from '../components/AccessSection';
import { deniedReason as modelsDeniedReason } from '../components/models/ModelsView';

function access(permission: Permission): IPermissions {
  return {
    object: { type: 'registered_model', id: 'm', name: 'm' },
    you: { name: 'bob', permission, admin: false },
    grants: [],
    history: []
  };
}

describe('permissions in the panel', () => {
  it('orders READ < EDIT < MANAGE, NO_PERMISSIONS lowest', () => {
    expect(allows('MANAGE', 'EDIT')).toBe(true);
    expect(allows('EDIT', 'EDIT')).toBe(true);
    expect(allows('READ', 'EDIT')).toBe(false);
    expect(allows('NO_PERMISSIONS', 'READ')).toBe(false);
    expect(allows(undefined, 'READ')).toBe(false);
  });

  it('says why an action is disabled, and nothing in a personal store', () => {
    expect(deniedReason(null, 'MANAGE')).toBeNull();
    expect(deniedReason(access('MANAGE'), 'EDIT')).toBeNull();
    expect(deniedReason(access('READ'), 'EDIT')).toBe(
      'You need EDIT on this model (you have READ); a MANAGE holder can grant it.'
    );
  });

  it('names the object: an experiment in the Runs tab, a model in the Models tab', () => {
    expect(deniedReason(access('EDIT'), 'MANAGE', 'experiment')).toBe(
      'You need MANAGE on this experiment (you have EDIT); a MANAGE holder can grant it.'
    );
    expect(deniedReason(access('MANAGE'), 'MANAGE', 'experiment')).toBeNull();
    expect(modelsDeniedReason).toBe(deniedReason);
  });
});
