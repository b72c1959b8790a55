import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';
import {
  BackendConflictError,
  BackendNotFoundError,
  BackendRefusedError,
  type BackendHealth,
  type BackendVersionInfo,
  type BackendWrite,
  type BackendWritten,
  type SecretBackend,
  type SecretLocator,
} from './secretBackend';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';
export const AWSPENDING = 'AWSPENDING';

export interface AwsSecretsManagerOptions {
  region: string;
  /** Endpoint override (moto, LocalStack, a VPC endpoint); the SDK's default when absent. */
  endpoint?: string;
  /** Explicit credentials; the SDK's default provider chain when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Prefix of every secret name, default `cogniforge/`. */
  namePrefix: string;
  /** Days a deleted secret stays restorable (7..30). */
  recoveryWindowDays: number;
}

/**
 * AWS Secrets Manager. A secret is one AWS secret; each of our versions is one AWS version whose
 * VersionId is our idempotency key (ClientRequestToken), so a repeated write is not a second version.
 * Rotation is AWS's staging-label dance: the new value goes in as AWSPENDING, then AWSCURRENT moves
 * to it (naming the version we expect to be current, so a concurrent rotation fails instead of being
 * overwritten), AWS moves AWSPREVIOUS to the old one, and AWSPENDING is taken off.
 */
export class AwsSecretsManagerBackend implements SecretBackend {
  readonly name = 'aws' as const;
  readonly dependency = 'aws-secrets';
  private readonly client: SecretsManagerClient;

  constructor(private readonly options: AwsSecretsManagerOptions) {
    this.client = new SecretsManagerClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // Retries belong to the dependency policy (idempotent reads only), not to the SDK.
      maxAttempts: 1,
    });
  }

  get address(): string {
    return this.options.endpoint ?? `secretsmanager.${this.options.region}.amazonaws.com`;
  }

  /** `cogniforge/<environment>/<name>/<secret id>`: the id keeps a re-created name clear of one in its recovery window. */
  nameOf(secret: SecretLocator): string {
    return secret.location ?? `${this.options.namePrefix}${secret.environment}/${secret.name}/${secret.secretId}`;
  }

  async write(secret: SecretLocator, w: BackendWrite, signal?: AbortSignal): Promise<BackendWritten> {
    const name = this.nameOf(secret);
    if (w.expectedCurrentRef === undefined) {
      const out = await this.call(signal, (abortSignal) =>
        this.client.send(
          new CreateSecretCommand({
            Name: name,
            SecretString: w.value,
            ClientRequestToken: w.idempotencyKey,
            Tags: [
              { Key: 'cogniforge:secretId', Value: secret.secretId },
              { Key: 'cogniforge:environment', Value: secret.environment },
            ],
          }),
          { abortSignal },
        ),
      );
      return { ref: out.VersionId ?? w.idempotencyKey, location: name };
    }
    const current = await this.currentVersionId(name, signal);
    if (current !== w.expectedCurrentRef) {
      throw new BackendConflictError(`AWSCURRENT of ${name} is ${current ?? 'unset'}, not the expected ${w.expectedCurrentRef}`);
    }
    const put = await this.call(signal, (abortSignal) =>
      this.client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: w.value, ClientRequestToken: w.idempotencyKey, VersionStages: [AWSPENDING] }),
        { abortSignal },
      ),
    );
    const next = put.VersionId ?? w.idempotencyKey;
    await this.moveStage(name, AWSCURRENT, next, w.expectedCurrentRef, signal);
    await this.call(signal, (abortSignal) =>
      this.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: AWSPENDING, RemoveFromVersionId: next }), {
        abortSignal,
      }),
    );
    return { ref: next, location: name };
  }

  async read(secret: SecretLocator, ref: string, signal?: AbortSignal): Promise<string> {
    return this.readBy(secret, { VersionId: ref }, signal);
  }

  /** The value under a staging label (AWSCURRENT, AWSPREVIOUS, AWSPENDING or a custom one). */
  async readStage(secret: SecretLocator, stage: string, signal?: AbortSignal): Promise<string> {
    return this.readBy(secret, { VersionStage: stage }, signal);
  }

  private async readBy(secret: SecretLocator, which: { VersionId?: string; VersionStage?: string }, signal?: AbortSignal): Promise<string> {
    const out = await this.call(signal, (abortSignal) =>
      this.client.send(new GetSecretValueCommand({ SecretId: this.nameOf(secret), ...which }), { abortSignal }),
    );
    if (typeof out.SecretString !== 'string') throw new BackendNotFoundError(`${this.nameOf(secret)} holds a binary value, not a string`);
    return out.SecretString;
  }

  /** Every version including deprecated ones (no staging label left), oldest first. */
  async versions(secret: SecretLocator, signal?: AbortSignal): Promise<BackendVersionInfo[]> {
    const entries: SecretVersionsListEntry[] = [];
    let next: string | undefined;
    do {
      const token = next;
      const out = await this.call(signal, (abortSignal) =>
        this.client.send(
          new ListSecretVersionIdsCommand({ SecretId: this.nameOf(secret), IncludeDeprecated: true, MaxResults: 100, ...(token ? { NextToken: token } : {}) }),
          { abortSignal },
        ),
      );
      entries.push(...(out.Versions ?? []));
      next = out.NextToken;
    } while (next);
    return entries
      .map((v) => ({
        ref: v.VersionId ?? '',
        ...(v.CreatedDate ? { createdAt: v.CreatedDate.toISOString() } : {}),
        labels: [...(v.VersionStages ?? [])].sort(),
      }))
      .sort((a, b) => (a.createdAt ?? '').localeCompare(b.createdAt ?? ''));
  }

  /** Undo the last rotation: AWSCURRENT moves back to the AWSPREVIOUS version. Answers the new current VersionId. */
  async restorePrevious(secret: SecretLocator, signal?: AbortSignal): Promise<string> {
    const name = this.nameOf(secret);
    const stages = await this.stages(name, signal);
    const current = stages.get(AWSCURRENT);
    const previous = stages.get(AWSPREVIOUS);
    if (!current || !previous) throw new BackendNotFoundError(`${name} has no ${previous ? AWSCURRENT : AWSPREVIOUS} version to move`);
    await this.moveStage(name, AWSCURRENT, previous, current, signal);
    return previous;
  }

  async delete(secret: SecretLocator, _refs: readonly string[], signal?: AbortSignal): Promise<void> {
    await this.call(signal, (abortSignal) =>
      this.client.send(new DeleteSecretCommand({ SecretId: this.nameOf(secret), RecoveryWindowInDays: this.options.recoveryWindowDays }), {
        abortSignal,
      }),
    );
  }

  async restore(secret: SecretLocator, _refs: readonly string[], signal?: AbortSignal): Promise<void> {
    await this.call(signal, (abortSignal) => this.client.send(new RestoreSecretCommand({ SecretId: this.nameOf(secret) }), { abortSignal }));
  }

  async destroy(secret: SecretLocator, _refs: readonly string[], signal?: AbortSignal): Promise<void> {
    await this.call(signal, (abortSignal) =>
      this.client.send(new DeleteSecretCommand({ SecretId: this.nameOf(secret), ForceDeleteWithoutRecovery: true }), { abortSignal }),
    );
  }

  async health(signal?: AbortSignal): Promise<BackendHealth> {
    await this.call(signal, (abortSignal) => this.client.send(new ListSecretsCommand({ MaxResults: 1 }), { abortSignal }));
    return { ok: true, detail: `Secrets Manager in ${this.options.region} answers` };
  }

  private async stages(name: string, signal?: AbortSignal): Promise<Map<string, string>> {
    const out = await this.call(signal, (abortSignal) => this.client.send(new DescribeSecretCommand({ SecretId: name }), { abortSignal }));
    const byStage = new Map<string, string>();
    for (const [id, stages] of Object.entries(out.VersionIdsToStages ?? {})) for (const s of stages) byStage.set(s, id);
    return byStage;
  }

  private async currentVersionId(name: string, signal?: AbortSignal): Promise<string | undefined> {
    return (await this.stages(name, signal)).get(AWSCURRENT);
  }

  private async moveStage(name: string, stage: string, to: string, from: string, signal?: AbortSignal): Promise<void> {
    await this.call(signal, (abortSignal) =>
      this.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: stage, MoveToVersionId: to, RemoveFromVersionId: from }), {
        abortSignal,
      }),
    );
  }

  /** AWS error names to the backend error kinds; transport failures and 5xx stay plain errors (outages). */
  private async call<T>(signal: AbortSignal | undefined, fn: (abortSignal: AbortSignal | undefined) => Promise<T>): Promise<T> {
    try {
      return await fn(signal);
    } catch (e) {
      const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const name = err.name ?? 'Error';
      const why = `${name}: ${err.message ?? ''}`.trim();
      const status = err.$metadata?.httpStatusCode;
      if (name === 'ResourceNotFoundException') throw new BackendNotFoundError(`Secrets Manager: ${why}`);
      if (name === 'ResourceExistsException') throw new BackendConflictError(`Secrets Manager: ${why}`);
      if (status !== undefined && status >= 400 && status < 500) throw new BackendRefusedError(`Secrets Manager refused the request: ${why}`);
      throw new Error(`Secrets Manager: ${why}`);
    }
  }
}
