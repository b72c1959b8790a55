import { execFile } from 'node:child_process';
import { realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { ErrorCode, RpcError } from '../../../protocol';
import { MAX_SPEC_BYTES } from '../audit/specFiles';
import type { RefFileReader } from './specDocuments';

/** A git command that takes longer than this is stuck (a lock, a huge repository), ms. */
const GIT_TIMEOUT_MS = 15_000;

export interface FileAtRevision {
  text: string;
  /** The commit the revision names. */
  commit: string;
  /** The repository's top folder. */
  repoRoot: string;
  /** The file's path inside the repository, `/`-separated. */
  relativePath: string;
  /** Reads the files the document `$ref`s from the same commit (absolute working-tree paths in). */
  readRef: RefFileReader;
}

interface GitResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

/** Runs git without a shell; a failed exit is a result, a missing git binary is FailedPrecondition. */
function git(cwd: string, args: string[], maxBuffer = 1024 * 1024): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      // A repository's own config must not make a read run its hooks (an fsmonitor command).
      ['-c', 'core.fsmonitor=false', ...args],
      { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }, windowsHide: true },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') {
          reject(new RpcError(ErrorCode.FailedPrecondition, 'git is not installed (or not on PATH): comparing against a revision needs it'));
          return;
        }
        if (error && (error as { killed?: boolean }).killed) {
          reject(new RpcError(ErrorCode.Timeout, `git ${args[0]} took longer than ${GIT_TIMEOUT_MS} ms in ${cwd}`));
          return;
        }
        resolve({ ok: !error, stdout, stderr });
      },
    );
  });
}

const toPosix = (p: string) => p.split(sep).join('/');

/**
 * The text of `file` (an absolute working-tree path) as it is in `revision`, via
 * `git show <commit>:<path>` in the file's repository. Clear errors: not a repository
 * (FailedPrecondition), unknown revision (NotFound, kind `revision`), file not in that revision
 * (NotFound, kind `file`), too big (InvalidParams).
 */
export async function readFileAtRevision(file: string, revision: string, field: string): Promise<FileAtRevision> {
  const dir = dirname(file);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new RpcError(ErrorCode.InvalidParams, `${field}: ${dir} is not an existing folder`, { issues: [{ path: field, message: `${dir} is not an existing folder` }] });
  }
  const top = await git(dir, ['rev-parse', '--show-toplevel']);
  if (!top.ok) throw new RpcError(ErrorCode.FailedPrecondition, `${file} is not inside a git repository, so it has no revision "${revision}"`, { file });
  const repoRoot = top.stdout.trim();
  const resolved = await git(repoRoot, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${revision}^{commit}`]);
  if (!resolved.ok) {
    throw new RpcError(ErrorCode.NotFound, `Unknown revision "${revision}" in ${repoRoot} (no branch, tag or commit by that name).`, { kind: 'revision', id: revision });
  }
  const commit = resolved.stdout.trim();
  // The repository root git prints is symlink-free: compare real paths (macOS /tmp, bind mounts).
  const realDir = await realpath(dir);
  const toRelative = (abs: string) => toPosix(relative(repoRoot, join(realDir, relative(dir, abs))));
  const show = async (abs: string, notFound: (rel: string) => RpcError): Promise<string> => {
    const rel = toRelative(abs);
    if (rel.startsWith('..')) throw notFound(rel);
    const size = await git(repoRoot, ['cat-file', '-s', `${commit}:${rel}`]);
    if (!size.ok) throw notFound(rel);
    const bytes = Number(size.stdout.trim());
    if (bytes > MAX_SPEC_BYTES) {
      throw new RpcError(ErrorCode.InvalidParams, `${field}: ${revision}:${rel} is ${bytes} bytes, over the ${MAX_SPEC_BYTES}-byte limit of a spec file`, { file: abs });
    }
    const shown = await git(repoRoot, ['show', `${commit}:${rel}`], MAX_SPEC_BYTES + 1024);
    if (!shown.ok) throw notFound(rel);
    return shown.stdout;
  };
  const relativePath = toRelative(file);
  const text = await show(file, (rel) => new RpcError(ErrorCode.NotFound, `${rel} is not in revision "${revision}" (${commit.slice(0, 12)}) of ${repoRoot}.`, { kind: 'file', id: rel, revision }));
  return {
    text,
    commit,
    repoRoot,
    relativePath,
    readRef: (abs) => show(abs, (rel) => new RpcError(ErrorCode.InvalidParams, `$ref: ${rel} is not in revision "${revision}"`, { file: abs })),
  };
}
