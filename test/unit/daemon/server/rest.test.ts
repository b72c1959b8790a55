import { describe, expect, it } from 'vitest';
import { ErrorCode, GetStatus, PublishEvent, QueryEvents } from '../../../../daemon/protocol';
import { httpStatusFor } from '../../../../daemon/server/httpErrors';
import { QueryReader, RestRoutes } from '../../../../daemon/server/rest';

describe('RestRoutes', () => {
  const rest = new RestRoutes()
    .get('/api/daemon/status', GetStatus)
    .get('/api/events', QueryEvents, ({ query: q }) => ({ types: q.list('type'), limit: q.num('limit') }))
    .post('/api/events', PublishEvent, { status: 201 })
    .get('/api/slo/burn-rate/{slo_id}', GetStatus, ({ path }) => ({ id: path.slo_id }));

  it('matches verb and path, with {name} segments decoded', () => {
    const m = rest.match('GET', '/api/slo/burn-rate/slo%20a');
    expect(m && 'route' in m && m.path).toEqual({ slo_id: 'slo a' });
    const post = rest.match('POST', '/api/events');
    expect(post && 'route' in post && post.route.status).toBe(201);
    expect(rest.match('GET', '/api/daemon/status/')).toBeDefined();
  });

  it('answers the allowed verbs for a path under another verb, and nothing for unknown paths', () => {
    expect(rest.match('DELETE', '/api/events')).toEqual({ allowed: ['GET', 'POST'] });
    expect(rest.match('GET', '/api/nothing')).toBeUndefined();
    expect(rest.match('GET', '/api/slo/burn-rate/a/b')).toBeUndefined();
  });

  it('maps query strings with the route mapper and bodies by default', () => {
    const get = rest.match('GET', '/api/events');
    if (!get || !('route' in get)) throw new Error('no route');
    const params = get.route.toParams({ query: new QueryReader(new URLSearchParams('type=a.b,c.*&type=d&limit=5')), path: {}, body: undefined });
    expect(params).toEqual({ types: ['a.b', 'c.*', 'd'], limit: 5 });
    const post = rest.match('POST', '/api/events');
    if (!post || !('route' in post)) throw new Error('no route');
    expect(post.route.toParams({ query: new QueryReader(new URLSearchParams('x=1')), path: {}, body: { type: 't' } })).toEqual({ type: 't' });
  });

  it('refuses duplicate routes and routes outside /api/', () => {
    expect(() => new RestRoutes().get('/status', GetStatus)).toThrow(/under \/api\//);
    expect(() => new RestRoutes().get('/api/a', GetStatus).get('/api/a', GetStatus)).toThrow(/twice/);
  });
});

describe('QueryReader', () => {
  it('passes unparsable numbers through for the schema to report', () => {
    const q = new QueryReader(new URLSearchParams('limit=ten&n=3&empty=&b=true'));
    expect(q.num('limit')).toBe('ten');
    expect(q.num('n')).toBe(3);
    expect(q.num('empty')).toBeUndefined();
    expect(q.bool('b')).toBe(true);
    expect(q.list('missing')).toBeUndefined();
  });
});

describe('httpStatusFor', () => {
  it('maps the error vocabulary to HTTP statuses', () => {
    expect(httpStatusFor(ErrorCode.InvalidParams)).toBe(400);
    expect(httpStatusFor(ErrorCode.Unauthorized)).toBe(401);
    expect(httpStatusFor(ErrorCode.Forbidden)).toBe(403);
    expect(httpStatusFor(ErrorCode.NotFound)).toBe(404);
    expect(httpStatusFor(ErrorCode.Conflict)).toBe(409);
    expect(httpStatusFor(ErrorCode.MessageTooLarge)).toBe(413);
    expect(httpStatusFor(ErrorCode.RateLimited)).toBe(429);
    expect(httpStatusFor(ErrorCode.InternalError)).toBe(500);
    expect(httpStatusFor(ErrorCode.ShuttingDown)).toBe(503);
  });
});
