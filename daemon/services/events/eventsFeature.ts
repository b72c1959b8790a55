import { ListStreams, PublishEvent, QueryEvents, Subscribe, Unsubscribe } from '../../protocol';
import type { DaemonFeature } from '../../server/feature';
import { EventsService } from './eventsService';
import { SubscriptionManager } from './subscriptions';

/**
 * `events/*` over RPC and REST (`GET/POST /api/events`). `reservedTypes` answers the patterns of
 * every other feature, which clients may not publish.
 */
export function eventsFeature(reservedTypes: () => readonly string[]): DaemonFeature {
  let subscriptions: SubscriptionManager | undefined;
  return {
    name: 'events',
    projections: [],
    reservedEventTypes: [],
    register({ router, rest, store, server, log }) {
      const events = new EventsService(store, reservedTypes);
      const subs = new SubscriptionManager(store, server, (m) => log.error(m));
      subscriptions = subs;
      router
        .on(PublishEvent, (p, ctx) => events.publish(p, ctx.actor))
        .on(QueryEvents, (p) => events.query(p))
        .on(ListStreams, () => events.streams())
        .on(Subscribe, ({ afterSeq, ...filter }, ctx) => {
          const { subscriptionId, headSeq, start } = subs.subscribe(ctx.connectionId, filter, afterSeq);
          if (ctx.afterResponse) ctx.afterResponse(start);
          else start();
          return { subscriptionId, headSeq };
        })
        .on(Unsubscribe, ({ subscriptionId }, ctx) => {
          subs.unsubscribe(ctx.connectionId, subscriptionId);
          return { ok: true as const };
        });
      rest
        .get('/api/events', QueryEvents, ({ query: q }) => ({
          types: q.list('type'),
          stream: q.str('stream'),
          from: q.str('from'),
          to: q.str('to'),
          afterSeq: q.num('afterSeq'),
          order: q.str('order'),
          limit: q.num('limit'),
          cursor: q.str('cursor'),
        }))
        .post('/api/events', PublishEvent, { status: 201 });
    },
    close() {
      subscriptions?.close();
    },
  };
}
