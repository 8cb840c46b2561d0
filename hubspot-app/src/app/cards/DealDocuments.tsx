// The deal card (registered by DealCard.tsx): the deal's Fortnox documents with their status and
// balance (an order's invoice under it), the last run's outcome with its fix, Replay for a failed
// run, Create now / Create again (asks invoice or order), and Refresh from Fortnox.
import React, { useCallback, useState } from 'react';
import {
  Alert,
  Button,
  ButtonRow,
  Divider,
  Flex,
  Heading,
  Link,
  LoadingSpinner,
  Select,
  Table,
  TableBody,
  TableCell,
  TableHead,
  TableHeader,
  TableRow,
  Text,
} from '@hubspot/ui-extensions';
import type { CrmContext } from '@hubspot/ui-extensions';

import { day, moment, money } from './format';
import {
  ActionError,
  cardGate,
  DocumentStatus,
  OnlyAllowed,
  OutcomeAlert,
  ServiceMessage,
} from './parts';
import { dealCreate, dealGet, dealReplay, dealSync } from './service';
import type { DealCardState, DocumentType, FortnoxDocument } from './service';
import { textsFor } from './texts';
import type { Texts } from './texts';
import { useCardState } from './useCardState';

function DocumentRow({
  document,
  texts,
  locale,
  underOrder,
}: {
  document: FortnoxDocument;
  texts: Texts;
  locale: string;
  underOrder?: string;
}) {
  const id = `${document.kind}-${document.number}`;
  const kind = texts.kinds[document.kind] ?? document.kind;
  return (
    <TableRow>
      <TableCell>
        <Text testId={`kind-${id}`}>
          {underOrder ? `↳ ${kind} (${texts.fromOrder} ${underOrder})` : kind}
        </Text>
      </TableCell>
      <TableCell>
        <Link href={{ url: document.url, external: true }} testId={`link-${id}`}>
          {document.number}
        </Link>
      </TableCell>
      <TableCell>
        <DocumentStatus status={document.status} texts={texts} testId={`status-${id}`} />
      </TableCell>
      <TableCell>{day(document.date)}</TableCell>
      <TableCell>{day(document.due_date)}</TableCell>
      <TableCell align="right">{money(document.total, document.currency, locale)}</TableCell>
      <TableCell align="right">
        <Text testId={`balance-${id}`}>{money(document.balance, document.currency, locale)}</Text>
      </TableCell>
    </TableRow>
  );
}

function Documents({
  state,
  texts,
  locale,
}: {
  state: DealCardState;
  texts: Texts;
  locale: string;
}) {
  if (state.documents.length === 0) {
    return <Text testId="no-documents">{texts.noDocuments}</Text>;
  }
  return (
    <Table bordered testId="documents">
      <TableHead>
        <TableRow>
          <TableHeader>{texts.type}</TableHeader>
          <TableHeader>{texts.number}</TableHeader>
          <TableHeader>{texts.status}</TableHeader>
          <TableHeader>{texts.date}</TableHeader>
          <TableHeader>{texts.dueDate}</TableHeader>
          <TableHeader align="right">{texts.total}</TableHeader>
          <TableHeader align="right">{texts.remaining}</TableHeader>
        </TableRow>
      </TableHead>
      <TableBody>
        {state.documents.flatMap(document => {
          const rows = [
            <DocumentRow
              key={`${document.kind}-${document.number}`}
              document={document}
              texts={texts}
              locale={locale}
            />,
          ];
          if (document.invoice) {
            rows.push(
              <DocumentRow
                key={`${document.kind}-${document.number}-invoice`}
                document={document.invoice}
                texts={texts}
                locale={locale}
                underOrder={document.number}
              />,
            );
          }
          return rows;
        })}
      </TableBody>
    </Table>
  );
}

export function DealDocuments({ context }: { context: CrmContext }) {
  const locale = context.user.locale || context.user.language || 'en';
  const texts = textsFor(locale);
  const baseUrl = String(context.variables?.PUBLIC_BASE_URL ?? '').replace(/\/$/, '');
  const get = useCallback(() => dealGet(baseUrl, context), [baseUrl, context]);
  const { state, loadError, actionError, pending, act } = useCardState(baseUrl ? get : null);
  // Create now asks the document type first; null while not asking.
  const [asking, setAsking] = useState<DocumentType | null>(null);

  const gate = cardGate({ baseUrl, state, loadError, texts });
  if (gate || !state) return gate;

  const disabled = !state.can_act || state.busy || pending;
  const run = state.last_run;
  const create = state.create;
  const runVariant =
    run?.status === 'failed' ? 'error' : run?.status === 'succeeded' ? 'success' : 'info';
  const createLabel = create.again ? texts.createAgain : texts.createNow;

  return (
    <Flex direction="column" gap="md">
      <OutcomeAlert outcome={state.outcome} texts={texts} />
      <ActionError texts={texts} error={actionError || loadError} />
      <ServiceMessage message={state.message} fix={state.fix} />

      <Heading>{texts.documents}</Heading>
      <Documents state={state} texts={texts} locale={locale} />

      {run ? (
        <Alert
          title={`${texts.lastRun}: ${texts.kinds[run.kind] ?? run.kind}, ${run.trigger}, ${
            texts.runStatus[run.status] ?? run.status
          }${run.finished_at ? ` (${moment(run.finished_at, locale, context.portal.timezone)})` : ''}`}
          variant={runVariant}
          testId="last-run"
        >
          {[run.message, run.fix].filter(Boolean).join(' ')}
        </Alert>
      ) : null}

      {create.again && create.allowed ? (
        <Text testId="create-again-note">{texts.createAgainNote}</Text>
      ) : null}
      {!create.allowed && create.reason ? (
        <Text testId="create-reason">{create.reason}</Text>
      ) : null}

      {asking ? (
        <Flex direction="row" gap="sm" align="end">
          <Select
            label={texts.documentType}
            name="document_type"
            value={asking}
            options={[
              { label: texts.kinds.invoice, value: 'invoice' },
              { label: texts.kinds.order, value: 'order' },
            ]}
            onChange={value => setAsking(value === 'order' ? 'order' : 'invoice')}
            testId="document-type"
          />
          <Button
            variant="primary"
            disabled={disabled}
            onClick={() => {
              const documentType = asking;
              setAsking(null);
              act(() => dealCreate(baseUrl, context, documentType));
            }}
            testId="create-confirm"
          >
            {texts.createConfirm}
          </Button>
          <Button variant="secondary" onClick={() => setAsking(null)} testId="create-cancel">
            {texts.cancel}
          </Button>
        </Flex>
      ) : null}

      <Divider />
      {state.busy ? (
        <LoadingSpinner label={texts.working} showLabel size="xs" testId="busy" />
      ) : pending ? (
        <LoadingSpinner label={texts.pending} showLabel size="xs" testId="pending" />
      ) : null}
      <ButtonRow>
        {create.allowed && !asking ? (
          <Button
            variant="primary"
            disabled={disabled}
            onClick={() => setAsking(create.default_type === 'order' ? 'order' : 'invoice')}
            testId="create"
          >
            {createLabel}
          </Button>
        ) : null}
        {run?.can_replay ? (
          <Button
            variant="secondary"
            disabled={disabled}
            onClick={() => act(() => dealReplay(baseUrl, context, run.id))}
            testId="replay"
          >
            {texts.replay}
          </Button>
        ) : null}
        <Button
          variant="secondary"
          disabled={disabled}
          onClick={() => act(() => dealSync(baseUrl, context))}
          testId="refresh"
        >
          {texts.refresh}
        </Button>
      </ButtonRow>
      <OnlyAllowed texts={texts} canAct={state.can_act} />
    </Flex>
  );
}
