/**
 * The version of this JavaScript bundle (from package.json, resolved at build time), compared
 * with the server extension's `info.version`.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const data = require('../package.json') as { name: string; version: string };

export const PACKAGE_NAME = data.name;
export const VERSION = data.version;

/**
 * The Python package's version as npm would write it: `0.1.0.dev0` -> `0.1.0-dev0`,
 * `1.0.0a1` -> `1.0.0-alpha.1`, `1.0.0rc2` -> `1.0.0-rc.2` (hatch-nodejs-version's mapping).
 */
export function pythonToNpmVersion(version: string): string {
  const m = /^(\d+\.\d+\.\d+)(?:\.?(a|b|rc|dev)\.?(\d+))?$/.exec(
    version.trim()
  );
  if (!m) {
    return version.trim();
  }
  const [, base, kind, n] = m;
  if (!kind) {
    return base;
  }
  const label =
    kind === 'a'
      ? 'alpha'
      : kind === 'b'
        ? 'beta'
        : kind === 'dev'
          ? 'dev'
          : 'rc';
  return kind === 'dev' ? `${base}-dev${n}` : `${base}-${label}.${n}`;
}

/** A message when the server's version differs from this bundle's, else null. */
export function versionMismatch(serverVersion: string): string | null {
  const server = pythonToNpmVersion(serverVersion);
  if (server === VERSION || serverVersion === VERSION) {
    return null;
  }
  return (
    `Version mismatch: this sidebar is jupyter-track ${VERSION} but the Jupyter server runs ` +
    `${serverVersion}. Reinstall (pip install -U jupyter-track), restart the Jupyter server ` +
    'and reload this page.'
  );
}
