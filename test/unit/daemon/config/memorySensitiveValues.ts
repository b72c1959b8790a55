import { refId, type SensitiveRef, type SensitiveValueStore } from '../../../../daemon/services/config/sensitiveValues';

/** The sensitive value store in memory, shared across simulated restarts like a MemoryEventLog. */
export class MemorySensitiveValues implements SensitiveValueStore {
  readonly values = new Map<string, unknown>();

  get(ref: SensitiveRef): unknown {
    return this.values.get(refId(ref));
  }

  put(values: { ref: SensitiveRef; value: unknown }[]): Promise<void> {
    for (const v of values) this.values.set(refId(v.ref), v.value);
    return Promise.resolve();
  }

  retainOnly(keep: (ref: SensitiveRef) => boolean): Promise<number> {
    let removed = 0;
    for (const id of [...this.values.keys()]) {
      const [environment, key, version] = id.split('\u0000');
      if (!keep({ environment: environment!, key: key!, version: Number(version) })) {
        this.values.delete(id);
        removed++;
      }
    }
    return Promise.resolve(removed);
  }
}
