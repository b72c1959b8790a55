import { describe, expect, it } from 'vitest';
import type { StreamInfo } from '../../../daemon/protocol';
import { buildStreamNodes } from '../../../extension/features/events/eventsTreeModel';

const stream = (over: Partial<StreamInfo> & { name: string }): StreamInfo => ({
  retentionDays: 30,
  typePatterns: [],
  events: 0,
  bytes: 0,
  lastSeq: 0,
  ...over,
});

const NOW = Date.parse('2026-01-01T12:00:00.000Z');

describe('buildStreamNodes', () => {
  it('lists streams by name with counts and size', () => {
    const nodes = buildStreamNodes(
      [stream({ name: 'security', events: 1, bytes: 300 }), stream({ name: 'api_requests', events: 12345, bytes: 3 * 1024 * 1024 })],
      NOW,
    );
    expect(nodes.map((n) => n.label)).toEqual(['api_requests', 'security']);
    expect(nodes[0]!.description).toBe('12,345 events · 3 MiB');
    expect(nodes[1]!.description).toBe('1 event · 300 B');
  });

  it('gives stable ids and the stream context value for menus', () => {
    const [node] = buildStreamNodes([stream({ name: 'default' })], NOW);
    expect(node!.id).toBe('stream:default');
    expect(node!.contextValue).toBe('cogniforge.stream');
    expect(new Set(node!.children.map((c) => c.id)).size).toBe(node!.children.length);
  });

  it('describes retention, types and the last event', () => {
    const [node] = buildStreamNodes(
      [stream({ name: 'audit', retentionDays: null, typePatterns: ['secret.*', 'auth.**'], lastSeq: 90, lastTime: '2026-01-01T11:58:30.000Z' })],
      NOW,
    );
    const details = Object.fromEntries(node!.children.map((c) => [c.label, c.description]));
    expect(details).toEqual({ Retention: 'kept forever', 'Event types': 'secret.*, auth.**', 'Last event': 'seq 90, 1m 30s ago' });
    expect(node!.tooltip).toContain('Retention: kept forever');
  });

  it('omits the last-event line for an empty stream and names the catch-all', () => {
    const [node] = buildStreamNodes([stream({ name: 'default', retentionDays: 1 })], NOW);
    expect(node!.children.map((c) => c.label)).toEqual(['Retention', 'Event types']);
    expect(node!.children[0]!.description).toBe('1 day');
    expect(node!.children[1]!.description).toBe('events no other stream claims');
  });

  it('does not reorder the array it was given', () => {
    const input = [stream({ name: 'b' }), stream({ name: 'a' })];
    buildStreamNodes(input, NOW);
    expect(input.map((s) => s.name)).toEqual(['b', 'a']);
  });
});
