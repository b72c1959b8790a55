import { describe, expect, it } from 'vitest';
import { ErrorCode, RpcError, type AnyRequestType, type AuditFinding, type EventEnvelope } from '../../../../daemon/protocol';
import type { DaemonSession, Disposable } from '../../../../extension/daemon/connection';
import type { DaemonState } from '../../../../extension/daemon/state';
import { GovernanceDashboardFeed } from '../../../../extension/features/governance/governanceDashboardFeed';
import { HostToGovernanceDashboard } from '../../../../webview/protocol/governanceDashboard';
import { complianceReport, comparisonReport } from '../../webview/governance/governanceFixtures';

const daemon = { pid: 42, host: '127.0.0.1', port: 5000, daemonVersion: '0.1.0', startedAt: '2026-01-01T10:00:00.000Z', dataDir: '/d' };

class FakeSession implements DaemonSession {
  state: DaemonState = { kind: 'connected', daemon };
  calls: string[] = [];
  compareAvailable = true;
  private appendListeners = new Set<(e: EventEnvelope) => void>();

  onDidChangeState(): Disposable {
    return { dispose: () => undefined };
  }
  async request<T extends AnyRequestType>(type: T): Promise<never> {
    this.calls.push(type.method);
    switch (type.method) {
      case 'governance/owaspCompliance':
        return { status: 'audited', report: complianceReport() } as never;
      case 'governance/auditHistory':
        return { entries: [] } as never;
      case 'governance/compareReports':
        if (!this.compareAvailable) throw new RpcError(ErrorCode.MethodNotFound, 'no such method', { method: type.method });
        return { reports: [comparisonReport()] } as never;
    }
    throw new Error(`unexpected ${type.method}`);
  }
  onNotification(): Disposable {
    return { dispose: () => undefined };
  }
  onDidAppend(cb: (e: EventEnvelope) => void): Disposable {
    this.appendListeners.add(cb);
    return { dispose: () => this.appendListeners.delete(cb) };
  }
  append(type: string): void {
    for (const l of this.appendListeners) l({ type } as EventEnvelope);
  }
  get listening(): number {
    return this.appendListeners.size;
  }
}

function setup() {
  const session = new FakeSession();
  const posted: HostToGovernanceDashboard[] = [];
  const opened: { file: string; finding: AuditFinding | undefined }[] = [];
  const warnings: string[] = [];
  const feed = new GovernanceDashboardFeed({
    session,
    channel: {
      visible: true,
      post: (m) => {
        expect(HostToGovernanceDashboard.safeParse(m).success).toBe(true);
        posted.push(m);
        return true;
      },
    },
    runCommand: () => undefined,
    openDocument: (file, finding) => opened.push({ file, finding }),
    label: (f) => f,
    log: (_level, text) => warnings.push(text),
    refreshMs: 0,
  });
  return { session, posted, opened, warnings, feed };
}

const settle = () => new Promise((r) => setTimeout(r, 5));

describe('GovernanceDashboardFeed', () => {
  it('posts the matrix, history and latest comparison once ready, and reloads when an audit completes', async () => {
    const { session, posted, feed } = setup();
    feed.onReady();
    await settle();
    const data = posted.find((m) => m.type === 'data');
    expect(data?.type === 'data' && data.audit?.rows).toHaveLength(2);
    expect(data?.type === 'data' && data.breaking.status).toBe('report');
    const loads = session.calls.filter((c) => c === 'governance/owaspCompliance').length;
    session.append('governance.auditCompleted');
    session.append('slo.sampleRecorded');
    await settle();
    expect(session.calls.filter((c) => c === 'governance/owaspCompliance').length).toBe(loads + 1);
    feed.onVisibilityChange(false);
    expect(session.listening).toBe(0);
    feed.dispose();
  });

  it('shows "unavailable" when the daemon has no comparison reports', async () => {
    const { session, posted, feed } = setup();
    session.compareAvailable = false;
    feed.onReady();
    await settle();
    const data = posted.find((m) => m.type === 'data');
    expect(data?.type === 'data' && data.breaking).toEqual({ status: 'unavailable', reason: 'This daemon does not keep breaking-change reports.' });
    feed.dispose();
  });

  it('opens only documents of the report shown, at the first finding of the clicked category', async () => {
    const { opened, warnings, feed } = setup();
    feed.onReady();
    await settle();
    feed.onMessage({ type: 'openDocument', file: '/ws/api/orders.yaml', category: 'API4' });
    feed.onMessage({ type: 'openDocument', file: '/ws/api/users.yaml' });
    feed.onMessage({ type: 'openDocument', file: '/etc/passwd' });
    expect(opened.map((o) => [o.file, o.finding?.range.start.line])).toEqual([
      ['/ws/api/orders.yaml', 10],
      ['/ws/api/users.yaml', undefined],
    ]);
    expect(warnings.some((w) => w.includes('refused to open /etc/passwd'))).toBe(true);
    feed.dispose();
  });
});
