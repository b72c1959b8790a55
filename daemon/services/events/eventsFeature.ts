import {
  AckEvent,
  AttachSubscription,
  CreateDurableSubscription,
  DeleteDurableSubscription,
  DetachSubscription,
  DiscardDlq,
  GetDlqEntry,
  ListCommands,
  ListDlq,
  ListDurableSubscriptions,
  ListStreams,
  NackEvent,
  PublishEvent,
  PublishEventBatch,
  QueryEvents,
  ReplayEvents,
  RetryDlq,
  StateAt,
  StreamActivity,
  Subscribe,
  Unsubscribe,
  ErrorCode,
  RpcError,
} from '../../protocol';
import type { DaemonFeature } from '../../server/feature';
import { CommandHistory } from './commandHistory';
import { DurableSubscriptionsProjection } from './durableProjection';
import { DurableSubscriptions } from './durableSubscriptions';
import { EventsService } from './eventsService';
import { stateAt, type ProjectionSource } from './stateAt';
import { StreamActivityProjection } from './streamActivity';
import { SubscriptionManager } from './subscriptions';

function decodeCommandCursor(text: string): number {
  const n = Number(Buffer.from(text, 'base64url').toString('utf8'));
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new RpcError(ErrorCode.InvalidParams, 'Invalid params for events/commands: cursor: not a cursor from a previous page', {
      method: 'events/commands',
      issues: [{ path: 'cursor', message: 'not a cursor from a previous page' }],
    });
  }
  return n;
}

/**
 * `events/*` over RPC and REST (`GET/POST /api/events`, `POST /api/events/batch`). `reservedTypes` answers the patterns of
 * every other feature, which clients may not publish; `projectionSources` the features whose
 * projections `events/stateAt` can rebuild.
 */
export function eventsFeature(reservedTypes: () => readonly string[], projectionSources: () => readonly ProjectionSource[] = () => []): DaemonFeature {
  let subscriptions: SubscriptionManager | undefined;
  let durable: DurableSubscriptions | undefined;
  const detach: (() => void)[] = [];
  const projection = new DurableSubscriptionsProjection();
  const activity = new StreamActivityProjection();
  return {
    name: 'events',
    projections: [projection, activity],
    reservedEventTypes: ['subscription.**'],
    register({ router, rest, store, server, log, clock }) {
      const events = new EventsService(store, reservedTypes);
      const subs = new SubscriptionManager(store, server, (m) => log.error(m));
      subscriptions = subs;
      const d = new DurableSubscriptions(store, projection, server, clock, { onError: (m) => log.error(m) });
      durable = d;
      const history = new CommandHistory(clock);
      detach.push(router.observeCommands((call) => history.begin(call)));
      detach.push(store.onAppend((appended) => history.appended(appended)));
      router
        .on(PublishEvent, (p, ctx) => events.publish(p, ctx.actor))
        .on(PublishEventBatch, (p, ctx) => events.publishBatch(p, ctx.actor))
        .on(QueryEvents, (p) => events.query(p))
        .on(ListStreams, () => events.streams())
        .on(StreamActivity, (p) => activity.query(p, clock.now(), store.streams()))
        .on(Subscribe, ({ afterSeq, ...filter }, ctx) => {
          const { subscriptionId, headSeq, start } = subs.subscribe(ctx.connectionId, filter, afterSeq);
          if (ctx.afterResponse) ctx.afterResponse(start);
          else start();
          return { subscriptionId, headSeq };
        })
        .on(Unsubscribe, ({ subscriptionId }, ctx) => {
          subs.unsubscribe(ctx.connectionId, subscriptionId);
          return { ok: true as const };
        })
        .on(CreateDurableSubscription, (p, ctx) => d.create(p, ctx.actor))
        .on(ListDurableSubscriptions, () => ({ subscriptions: d.list() }))
        .on(DeleteDurableSubscription, async ({ name }, ctx) => {
          await d.delete(name, ctx.actor);
          return { ok: true as const };
        })
        .on(AttachSubscription, ({ name, takeover }, ctx) => {
          const { subscription, start } = d.attach(ctx.connectionId, name, takeover);
          if (ctx.afterResponse) ctx.afterResponse(start);
          else start();
          return { subscription };
        })
        .on(DetachSubscription, async ({ name }, ctx) => {
          await d.detachConsumer(ctx.connectionId, name);
          return { ok: true as const };
        })
        .on(AckEvent, async ({ name, seq, deliveryId }, ctx) => ({ acked: await d.ack(ctx.connectionId, name, seq, deliveryId) }))
        .on(NackEvent, ({ name, seq, deliveryId, reason }, ctx) => d.nack(ctx.connectionId, name, seq, deliveryId, reason))
        .on(ListDlq, (p) => d.dlqList(p))
        .on(GetDlqEntry, ({ id }) => d.dlqGet(id))
        .on(RetryDlq, (p, ctx) => d.dlqRetry(p, ctx.actor))
        .on(DiscardDlq, async ({ ids }, ctx) => ({ discarded: await d.dlqDiscard(ids, ctx.actor) }))
        .on(ReplayEvents, (p, ctx) => d.replay(p, ctx.actor))
        .on(StateAt, (p) => stateAt(store, projectionSources, p))
        .on(ListCommands, ({ method, actor, limit, cursor }) => {
          const { commands, more } = history.list({ method, actor, limit, beforeId: cursor === undefined ? undefined : decodeCommandCursor(cursor) });
          return more ? { commands, nextCursor: Buffer.from(String(commands[commands.length - 1].id)).toString('base64url') } : { commands };
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
        .post('/api/events', PublishEvent, { status: 201 })
        .post('/api/events/batch', PublishEventBatch, { status: 201 });
    },
    async close() {
      detach.forEach((fn) => fn());
      subscriptions?.close();
      await durable?.close();
    },
  };
}
