import type { StreamInfo } from '../../../daemon/protocol';
import { formatBytes, formatCount, formatDuration } from '../../../webview/protocol/format';

/** A node of the Events & Resilience tree; the provider turns it into a TreeItem. */
export type EventsNode = StreamNode | StreamDetailNode;

export interface StreamNode {
  readonly kind: 'stream';
  /** Stable across refreshes, so VS Code keeps expansion and selection. */
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly tooltip: string;
  /** For `view/item/context` menus. */
  readonly contextValue: 'cogniforge.stream';
  readonly children: readonly StreamDetailNode[];
}

export interface StreamDetailNode {
  readonly kind: 'detail';
  readonly id: string;
  readonly label: string;
  readonly description: string;
  readonly icon: 'history' | 'symbol-event' | 'clock';
}

/** Streams by name with their counts and a few details; `nowMs` makes "last event … ago". */
export function buildStreamNodes(streams: readonly StreamInfo[], nowMs: number): StreamNode[] {
  return [...streams]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((s) => {
      const events = `${formatCount(s.events)} event${s.events === 1 ? '' : 's'}`;
      const retention = s.retentionDays === null ? 'kept forever' : `${s.retentionDays} day${s.retentionDays === 1 ? '' : 's'}`;
      const types = s.typePatterns.length > 0 ? s.typePatterns.join(', ') : 'events no other stream claims';
      const children: StreamDetailNode[] = [
        { kind: 'detail', id: `stream:${s.name}:retention`, label: 'Retention', description: retention, icon: 'history' },
        { kind: 'detail', id: `stream:${s.name}:types`, label: 'Event types', description: types, icon: 'symbol-event' },
      ];
      if (s.lastTime !== undefined) {
        const at = Date.parse(s.lastTime);
        const ago = Number.isNaN(at) ? s.lastTime : `${formatDuration(Math.max(0, nowMs - at))} ago`;
        children.push({ kind: 'detail', id: `stream:${s.name}:last`, label: 'Last event', description: `seq ${s.lastSeq}, ${ago}`, icon: 'clock' });
      }
      return {
        kind: 'stream',
        id: `stream:${s.name}`,
        label: s.name,
        description: `${events} · ${formatBytes(s.bytes)}`,
        tooltip: [`Stream ${s.name}`, `${events}, ${formatBytes(s.bytes)} on disk`, `Retention: ${retention}`, `Types: ${types}`].join('\n'),
        contextValue: 'cogniforge.stream',
        children,
      };
    });
}
