import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS, AwsSecretsManagerBackend } from '../../../daemon/services/secrets/backends/awsSecretsManager';
import { BackendConflictError, BackendNotFoundError, type SecretLocator } from '../../../daemon/services/secrets/backends/secretBackend';
import { idempotencyKeyOf } from '../../../daemon/services/secrets/secretsService';
import { MOTO_ENV, motoUnavailableReason, startMoto, type MotoServer } from '../helpers/moto';

const skipReason = motoUnavailableReason();
if (skipReason) console.log(`skipped: AWS Secrets Manager backend suite: ${skipReason}`);

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(skipReason !== undefined)('AwsSecretsManagerBackend against moto_server', () => {
  let moto: MotoServer;
  let aws: AwsSecretsManagerBackend;
  beforeAll(async () => {
    moto = await startMoto();
    aws = new AwsSecretsManagerBackend({
      region: MOTO_ENV.AWS_REGION,
      endpoint: moto.endpoint,
      credentials: { accessKeyId: MOTO_ENV.AWS_ACCESS_KEY_ID, secretAccessKey: MOTO_ENV.AWS_SECRET_ACCESS_KEY },
      namePrefix: 'cogniforge/',
      recoveryWindowDays: 7,
    });
  }, 60_000);
  afterAll(() => moto?.stop());

  const loc = (name: string): SecretLocator => ({ secretId: `sec_${name.padEnd(16, '0').slice(0, 16)}`, name, environment: 'production' });
  const write = (l: SecretLocator, version: number, value: string, expected: string | undefined) =>
    aws.write(l, { version, value, expectedCurrentRef: expected, idempotencyKey: idempotencyKeyOf(l.secretId, version) });

  it('creates, rotates with the AWSPENDING → AWSCURRENT → AWSPREVIOUS dance, reads by VersionId and staging label', async () => {
    const l = loc('aaaa');
    const v1 = await write(l, 1, 'aws-one', undefined);
    expect(v1).toEqual({ ref: idempotencyKeyOf(l.secretId, 1), location: `cogniforge/production/aaaa/${l.secretId}` });
    const v2 = await write(l, 2, 'aws-two', v1.ref);
    expect(await aws.read(l, v1.ref)).toBe('aws-one');
    expect(await aws.read(l, v2.ref)).toBe('aws-two');
    expect(await aws.readStage(l, AWSCURRENT)).toBe('aws-two');
    expect(await aws.readStage(l, AWSPREVIOUS)).toBe('aws-one');
    expect(await rejection(aws.readStage(l, AWSPENDING))).toBeInstanceOf(BackendNotFoundError);
    const v3 = await write(l, 3, 'aws-three', v2.ref);
    const versions = await aws.versions(l);
    // The first version lost its last label: ListSecretVersionIds still shows it (IncludeDeprecated).
    expect(versions.map((v) => [v.ref, v.labels])).toEqual([
      [v1.ref, []],
      [v2.ref, [AWSPREVIOUS]],
      [v3.ref, [AWSCURRENT]],
    ]);
    expect(await aws.read(l, v1.ref)).toBe('aws-one');
  });

  it('refuses a stale expected version and a second create (one of two racing writers wins)', async () => {
    const l = loc('bbbb');
    const v1 = await write(l, 1, 'one', undefined);
    await write(l, 2, 'two', v1.ref);
    expect(await rejection(write(l, 3, 'late', v1.ref))).toBeInstanceOf(BackendConflictError);
    expect(await rejection(write({ ...l, location: undefined }, 1, 'again', undefined))).toBeInstanceOf(BackendConflictError);
    expect(await aws.readStage(l, AWSCURRENT)).toBe('two');
  });

  it('repeats a write with the same ClientRequestToken without a second version', async () => {
    const l = loc('cccc');
    const v1 = await write(l, 1, 'one', undefined);
    await aws.write(l, { version: 2, value: 'two', expectedCurrentRef: v1.ref, idempotencyKey: idempotencyKeyOf(l.secretId, 2) });
    expect((await aws.versions(l)).length).toBe(2);
  });

  it('restores the previous version by moving AWSCURRENT back', async () => {
    const l = loc('dddd');
    const v1 = await write(l, 1, 'good', undefined);
    await write(l, 2, 'bad', v1.ref);
    expect(await aws.restorePrevious(l)).toBe(v1.ref);
    expect(await aws.readStage(l, AWSCURRENT)).toBe('good');
    expect(await aws.readStage(l, AWSPREVIOUS)).toBe('bad');
  });

  it('deletes with a recovery window, restores, destroys; answers health', async () => {
    const l = loc('eeee');
    await write(l, 1, 'val', undefined);
    await aws.delete(l, []);
    expect(await rejection(aws.readStage(l, AWSCURRENT))).toBeDefined();
    await aws.restore(l, []);
    expect(await aws.readStage(l, AWSCURRENT)).toBe('val');
    await aws.destroy(l, []);
    expect(await rejection(aws.readStage(l, AWSCURRENT))).toBeInstanceOf(BackendNotFoundError);
    expect(await aws.health()).toMatchObject({ ok: true });
  });
});
