import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ABANDONED_STATUS, collapseIds, routeTemplate, sloMiddleware, type RouteAwareRequest, type SloRequestSample } from '../../../../daemon/client';

/** Just what the middleware reads of a response, with Node's event order. */
class FakeResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  writableFinished = false;

  end(status: number): void {
    this.statusCode = status;
    this.headersSent = true;
    this.writableFinished = true;
    this.emit('finish');
    this.emit('close');
  }

  abort(): void {
    this.emit('close');
  }
}

const request = (fields: Partial<RouteAwareRequest>): RouteAwareRequest => ({ method: 'GET', url: '/', ...fields }) as RouteAwareRequest;

function setup(options: Parameters<typeof sloMiddleware>[1] = {}) {
  const samples: SloRequestSample[] = [];
  const mw = sloMiddleware({ recordRequest: (s) => samples.push(s) }, options);
  const serve = (req: RouteAwareRequest) => {
    const res = new FakeResponse();
    let nextCalls = 0;
    mw(req, res as unknown as ServerResponse, () => nextCalls++);
    return { res, nextCalls: () => nextCalls };
  };
  return { samples, serve };
}

describe('sloMiddleware', () => {
  it('records method, route, status and duration once the response finishes, and calls next', () => {
    const { samples, serve } = setup({ service: 'shop' });
    const { res, nextCalls } = serve(request({ method: 'POST', url: '/orders/42?expand=items' }));
    expect(nextCalls()).toBe(1);
    expect(samples).toHaveLength(0);
    res.end(201);
    expect(samples).toHaveLength(1);
    expect(samples[0]).toMatchObject({ service: 'shop', method: 'POST', route: '/orders/:id', status: 201 });
    expect(samples[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(samples[0]!.timedOut).toBeUndefined();
  });

  it('records a response closed before it finished as a timeout, once', () => {
    const { samples, serve } = setup();
    const { res } = serve(request({ url: '/slow' }));
    res.abort();
    res.abort();
    expect(samples).toEqual([expect.objectContaining({ route: '/slow', status: ABANDONED_STATUS, timedOut: true })]);
  });

  it('keeps the status already sent when a streamed response is cut off', () => {
    const { samples, serve } = setup();
    const { res } = serve(request({ url: '/stream' }));
    res.headersSent = true;
    res.statusCode = 200;
    res.abort();
    expect(samples[0]).toMatchObject({ status: 200, timedOut: true });
  });

  it('leaves out the service so the recorder default applies', () => {
    const { samples, serve } = setup();
    serve(request({})).res.end(204);
    expect(samples[0]).not.toHaveProperty('service');
  });

  it('skips ignored requests but still calls next', () => {
    const { samples, serve } = setup({ ignore: (r) => r.url === '/healthz' });
    const { res, nextCalls } = serve(request({ url: '/healthz' }));
    res.end(200);
    expect(nextCalls()).toBe(1);
    expect(samples).toHaveLength(0);
  });

  it('works without next (a plain http handler)', () => {
    const samples: SloRequestSample[] = [];
    const mw = sloMiddleware({ recordRequest: (s) => samples.push(s) });
    const res = new FakeResponse();
    mw(request({ url: '/x' }), res as unknown as ServerResponse);
    res.end(500);
    expect(samples[0]).toMatchObject({ route: '/x', status: 500 });
  });

  it('never lets a throwing routeOf or ignore break the request', () => {
    const { samples, serve } = setup({
      routeOf: () => {
        throw new Error('boom');
      },
      ignore: () => {
        throw new Error('boom');
      },
    });
    const { res, nextCalls } = serve(request({ url: '/a' }));
    expect(() => res.end(200)).not.toThrow();
    expect(nextCalls()).toBe(1);
    expect(samples).toEqual([expect.objectContaining({ route: '/a', status: 200 })]);
  });
});

describe('routeTemplate', () => {
  it("prefers Express's matched route, joined with the router's mount path", () => {
    expect(routeTemplate(request({ url: '/42', baseUrl: '/api/orders', route: { path: '/:id' } }))).toBe('/api/orders/:id');
    expect(routeTemplate(request({ url: '/', baseUrl: '/api/orders', route: { path: '/' } }))).toBe('/api/orders');
    expect(routeTemplate(request({ url: '/', route: { path: '/' } }))).toBe('/');
  });

  it('falls back to routeOf, then to the raw path with ids collapsed', () => {
    const routeOf = (r: RouteAwareRequest) => (r.url?.startsWith('/u/') ? '/u/:name' : undefined);
    expect(routeTemplate(request({ url: '/u/alice' }), routeOf)).toBe('/u/:name');
    expect(routeTemplate(request({ url: '/v/7' }), routeOf)).toBe('/v/:id');
    // A regex route is not a template: the path is used.
    expect(routeTemplate(request({ url: '/r/5', route: { path: /r/ } }))).toBe('/r/:id');
    // Routers rewrite url; originalUrl is the full path.
    expect(routeTemplate(request({ url: '/5', originalUrl: '/api/items/5?x=1' }))).toBe('/api/items/:id');
  });
});

describe('collapseIds', () => {
  it('replaces numbers, UUIDs, long hex and opaque tokens, and keeps words', () => {
    expect(collapseIds('/orders/42/items/7')).toBe('/orders/:id/items/:id');
    expect(collapseIds('/u/3f2504e0-4f89-41d3-9a0c-0305e82c3301')).toBe('/u/:id');
    expect(collapseIds('/obj/507f1f77bcf86cd799439011')).toBe('/obj/:id');
    expect(collapseIds('/t/01HZX3K5QW8V2M4N6P7R9S0T1U')).toBe('/t/:id');
    expect(collapseIds('/api/v2/customers/search')).toBe('/api/v2/customers/search');
    expect(collapseIds('/docs/a-very-long-article-title-here')).toBe('/docs/a-very-long-article-title-here');
    expect(collapseIds('/')).toBe('/');
  });
});
