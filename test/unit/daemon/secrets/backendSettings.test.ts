import { describe, expect, it } from 'vitest';
import { BackendSettingsError, parseBackendSettings } from '../../../../daemon/services/secrets/backends/settings';

describe('parseBackendSettings', () => {
  it('defaults to the local vault with no remote backend', () => {
    expect(parseBackendSettings({})).toEqual({ defaultBackend: 'local', timeoutMs: 10_000 });
  });

  it("maps the seed's names and their aliases, case-insensitively", () => {
    const vault = { VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 't' };
    const aws = { AWS_REGION: 'eu-west-1' };
    expect(parseBackendSettings({ VAULT_BACKEND: 'local' }).defaultBackend).toBe('local');
    expect(parseBackendSettings({ VAULT_BACKEND: 'HashiCorp', ...vault }).defaultBackend).toBe('hashicorp');
    expect(parseBackendSettings({ VAULT_BACKEND: 'hashicorp_vault', ...vault }).defaultBackend).toBe('hashicorp');
    expect(parseBackendSettings({ VAULT_BACKEND: 'aws', ...aws }).defaultBackend).toBe('aws');
    expect(parseBackendSettings({ VAULT_BACKEND: 'aws_secrets_manager', ...aws }).defaultBackend).toBe('aws');
  });

  it("reads Vault from VAULT_ADDR or the original's VAULT_URL, with mount and prefix defaults", () => {
    expect(parseBackendSettings({ VAULT_URL: 'http://127.0.0.1:8200/', VAULT_TOKEN: 'root' }).vault).toEqual({
      address: 'http://127.0.0.1:8200',
      addressVariable: 'VAULT_URL',
      token: 'root',
      mount: 'secret',
      pathPrefix: 'cogniforge/',
    });
    const s = parseBackendSettings({
      VAULT_ADDR: 'http://a:1',
      VAULT_URL: 'http://b:2',
      VAULT_TOKEN: 'root',
      VAULT_KV_MOUNT: '/kv/',
      VAULT_PATH_PREFIX: 'teams/core',
    });
    expect(s.vault).toMatchObject({ address: 'http://a:1', addressVariable: 'VAULT_ADDR', mount: 'kv', pathPrefix: 'teams/core/' });
  });

  it('reads AWS region, endpoint and credentials from the standard variables', () => {
    const s = parseBackendSettings({
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:5005/',
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'key',
    });
    expect(s.aws).toEqual({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:5005',
      credentials: { accessKeyId: 'id', secretAccessKey: 'key' },
      namePrefix: 'cogniforge/',
      recoveryWindowDays: 7,
    });
  });

  it('refuses bad settings naming the variable, never echoing the token', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ VAULT_BACKEND: 'gcp' }, /^VAULT_BACKEND: must be local, hashicorp or aws \(got "gcp"\)$/],
      [{ VAULT_BACKEND: 'hashicorp' }, /VAULT_BACKEND=hashicorp needs VAULT_ADDR \(or VAULT_URL\) and VAULT_TOKEN/],
      [{ VAULT_BACKEND: 'aws' }, /VAULT_BACKEND=aws needs AWS_REGION/],
      [{ VAULT_ADDR: 'http://127.0.0.1:8200' }, /VAULT_ADDR is set but VAULT_TOKEN is not/],
      [{ VAULT_URL: 'ftp://x', VAULT_TOKEN: 'hunter2' }, /^VAULT_URL: must be an http\(s\) URL/],
      [{ AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:1' }, /needs a region/],
      [{ AWS_REGION: 'x', AWS_ACCESS_KEY_ID: 'id' }, /must be set together/],
      [{ AWS_REGION: 'x', AWS_SECRETS_RECOVERY_WINDOW_DAYS: '3' }, /AWS_SECRETS_RECOVERY_WINDOW_DAYS: must be a whole number of days from 7 to 30/],
      [{ COGNIFORGE_SECRETS_BACKEND_TIMEOUT_MS: 'soon' }, /COGNIFORGE_SECRETS_BACKEND_TIMEOUT_MS/],
    ];
    for (const [env, message] of cases) {
      let error: unknown;
      try {
        parseBackendSettings(env);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(env)).toBeInstanceOf(BackendSettingsError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('hunter2');
    }
  });
});
