/**
 * One column's value of an event, rendered by the column's `format` (docs/views.md). Values are
 * always React text: nothing from an event is ever rendered as HTML.
 */
import type { StoredEvent, ViewColumn, ViewDefinition } from '@hindsight/core';
import {
  actorText,
  channelText,
  clientText,
  locationText,
  messageTypeText,
  numberText,
  plainText,
  pointerOf,
  type TimeFormat,
  valueAt,
  verbText,
} from '../formats.js';
import { outcomeInfo, statusInfo } from '../statuses.js';
import { Badge } from './badge.js';
import { ChangeList } from './change-list.js';
import { Receivers } from './receivers.js';
import { TargetLink } from './target-link.js';

/** The time of an event, machine-readable too. */
export function Time({ iso, time }: { readonly iso: unknown; readonly time: TimeFormat }) {
  if (typeof iso !== 'string') return null;
  return <time dateTime={iso}>{time(iso)}</time>;
}

/** An actor: name, with e-mail or kind below. */
export function ActorName({ actor }: { readonly actor: unknown }) {
  const { name, detail } = actorText(actor);
  return (
    <span className="actor">
      <span className="actor-name">{name}</span>
      {detail && <span className="sub actor-detail">{detail}</span>}
    </span>
  );
}

/** A column's value for the `receivers` format: the list, or a delivery report's receiver. */
function receiversValue(event: StoredEvent, field: string): unknown {
  const value = valueAt(event, field);
  return value === undefined && field.endsWith('s') ? valueAt(event, field.slice(0, -1)) : value;
}

/** The label of an action: the view's own ("User creation"), else the action itself. */
export function actionLabel(view: ViewDefinition, action: unknown): string {
  const text = plainText(action);
  return view.actions?.find((a) => a.value === text)?.label ?? text;
}

export function Cell({
  event,
  column,
  view,
  time,
}: {
  readonly event: StoredEvent;
  readonly column: ViewColumn;
  readonly view: ViewDefinition;
  readonly time: TimeFormat;
}) {
  const value = valueAt(event, column.field);
  switch (column.format) {
    case 'time':
      return <Time iso={value} time={time} />;
    case 'actor':
      return value === undefined ? null : <ActorName actor={value} />;
    case 'action':
      return <span className="action">{actionLabel(view, value)}</span>;
    case 'verb':
      return <>{verbText(value)}</>;
    case 'target':
      return <TargetLink target={value} />;
    case 'status':
      return typeof value === 'string' ? <Badge info={statusInfo(view, value)} /> : null;
    case 'outcome':
      return typeof value === 'string' ? <Badge info={outcomeInfo(value)} /> : null;
    case 'channel':
      return <>{channelText(value)}</>;
    case 'changes':
      return <ChangeList value={value} erased={event.erased} pointer={pointerOf(column.field)} />;
    case 'location':
      return <>{locationText(value)}</>;
    case 'client':
      return <>{clientText(value)}</>;
    case 'ip':
      return <span className="mono">{plainText(value)}</span>;
    case 'seq':
      return <span className="num">{plainText(value)}</span>;
    case 'number':
      return <span className="num">{numberText(value)}</span>;
    case 'receivers':
      return <Receivers value={receiversValue(event, column.field)} />;
    case 'message-type':
      return <>{messageTypeText(value)}</>;
    case 'json':
      return <span className="mono">{plainText(value)}</span>;
    default:
      return <span className="cell-text">{plainText(value)}</span>;
  }
}
