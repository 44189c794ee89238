/**
 * A job's origin as a path under the server root, with no JupyterLab
 * imports, so views that only name a notebook (the schedule card) and
 * their tests need none of the notebook machinery.
 */

/**
 * `origin` as a path under the server root (what the document manager
 * opens), or `null` when it is none: empty, or a file outside the root.
 */
export function contentsPath(
  origin: string,
  serverRoot: string
): string | null {
  const path = origin.replace(/\\/g, '/');
  if (!path) {
    return null;
  }
  if (!path.startsWith('/') && !/^[A-Za-z]:\//.test(path)) {
    return path.replace(/^(\.\/)+/, ''); // already under the root
  }
  const root = serverRoot.replace(/\\/g, '/').replace(/\/+$/, '');
  return root && path.startsWith(`${root}/`)
    ? path.slice(root.length + 1)
    : null;
}
