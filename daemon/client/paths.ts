import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The default data dir, XDG-aware: `$COGNIFORGE_DATA_DIR`, else `$XDG_DATA_HOME/cogniforge`, else
 * `~/.local/share/cogniforge` on Linux, `~/Library/Application Support/cogniforge` on macOS and
 * `%LOCALAPPDATA%\cogniforge` on Windows. Shared by the daemon, the client library and the extension.
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (env.COGNIFORGE_DATA_DIR) return env.COGNIFORGE_DATA_DIR;
  if (platform === 'win32') return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'cogniforge');
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'cogniforge');
  return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'cogniforge');
}
