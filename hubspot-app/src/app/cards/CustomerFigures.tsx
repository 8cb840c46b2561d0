// The contact and company card (registered by CustomerCard.tsx): the record's Fortnox customer,
// its figures in SEK (total invoiced, unpaid balance, overdue), the latest invoices each in its own
// currency, the time of the last read, and the Update and Perform Sync buttons.
import React, { useCallback } from 'react';
import {
  Button,
  ButtonRow,
  DescriptionList,
  DescriptionListItem,
  Divider,
  EmptyState,
  Flex,
  Heading,
  Link,
  LoadingSpinner,
  Statistics,
  StatisticsItem,
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
import { recordGet, recordSync, recordUpdate } from './service';
import type { CustomerCardState } from './service';
import { textsFor } from './texts';
import type { Texts } from './texts';
import { useCardState } from './useCardState';

function Invoices({
  state,
  texts,
  locale,
}: {
  state: CustomerCardState;
  texts: Texts;
  locale: string;
}) {
  if (state.invoices.length === 0) {
    return <Text testId="no-invoices">{texts.noInvoices}</Text>;
  }
  return (
    <Table bordered testId="invoices">
      <TableHead>
        <TableRow>
          <TableHeader>{texts.number}</TableHeader>
          <TableHeader>{texts.date}</TableHeader>
          <TableHeader>{texts.dueDate}</TableHeader>
          <TableHeader align="right">{texts.total}</TableHeader>
          <TableHeader align="right">{texts.remaining}</TableHeader>
          <TableHeader>{texts.status}</TableHeader>
        </TableRow>
      </TableHead>
      <TableBody>
        {state.invoices.map(invoice => (
          <TableRow key={`${invoice.kind}-${invoice.number}`}>
            <TableCell>
              <Link
                href={{ url: invoice.url, external: true }}
                testId={`invoice-${invoice.number}`}
              >
                {invoice.number}
              </Link>
            </TableCell>
            <TableCell>{day(invoice.date)}</TableCell>
            <TableCell>{day(invoice.due_date)}</TableCell>
            <TableCell align="right">{money(invoice.total, invoice.currency, locale)}</TableCell>
            <TableCell align="right">{money(invoice.balance, invoice.currency, locale)}</TableCell>
            <TableCell>
              <DocumentStatus
                status={invoice.status}
                texts={texts}
                testId={`status-${invoice.number}`}
              />
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

export function CustomerFigures({ context }: { context: CrmContext }) {
  const locale = context.user.locale || context.user.language || 'en';
  const texts = textsFor(locale);
  const baseUrl = String(context.variables?.PUBLIC_BASE_URL ?? '').replace(/\/$/, '');
  const get = useCallback(() => recordGet(baseUrl, context), [baseUrl, context]);
  const { state, loadError, actionError, pending, act } = useCardState(baseUrl ? get : null);

  const gate = cardGate({ baseUrl, state, loadError, texts });
  if (gate || !state) return gate;

  const disabled = !state.can_act || state.busy || pending;
  const figures = state.figures;
  return (
    <Flex direction="column" gap="md">
      <OutcomeAlert outcome={state.outcome} texts={texts} />
      <ActionError texts={texts} error={actionError || loadError} />
      <ServiceMessage message={state.message} fix={state.fix} />

      {state.customer ? (
        <DescriptionList direction="row">
          <DescriptionListItem label={texts.customer}>
            <Link href={{ url: state.customer.url, external: true }} testId="customer-link">
              {state.customer.number}
            </Link>{' '}
            <Text inline>{state.customer.name}</Text>
          </DescriptionListItem>
          <DescriptionListItem label={texts.lastSync}>
            <Text testId="synced-at">
              {moment(figures?.synced_at, locale, context.portal.timezone) || texts.never}
            </Text>
          </DescriptionListItem>
        </DescriptionList>
      ) : (
        <EmptyState
          title={texts.noCustomerTitle}
          layout="horizontal"
          imageName="contacts"
          testId="no-customer"
        >
          <Text>{texts.noCustomer}</Text>
        </EmptyState>
      )}

      {state.state === 'not_synced' ? (
        <EmptyState
          title={texts.notSyncedTitle}
          layout="horizontal"
          imageName="emptyStateCharts"
          testId="not-synced"
        >
          <Text>{texts.notSynced}</Text>
        </EmptyState>
      ) : null}

      {figures ? (
        <Statistics testId="figures">
          <StatisticsItem
            label={texts.totalInvoiced}
            number={money(figures.total_invoiced, figures.currency, locale)}
            testId="total-invoiced"
          />
          <StatisticsItem
            label={texts.balance}
            number={money(figures.balance, figures.currency, locale)}
            testId="balance"
          />
          <StatisticsItem
            label={texts.overdue}
            number={money(figures.overdue, figures.currency, locale)}
            testId="overdue"
          />
        </Statistics>
      ) : null}

      {state.state === 'ready' ? (
        <>
          <Heading>{texts.latestInvoices}</Heading>
          <Invoices state={state} texts={texts} locale={locale} />
        </>
      ) : null}

      <Divider />
      {state.busy ? (
        <LoadingSpinner label={texts.working} showLabel size="xs" testId="busy" />
      ) : pending ? (
        <LoadingSpinner label={texts.pending} showLabel size="xs" testId="pending" />
      ) : null}
      <ButtonRow>
        <Button
          variant="primary"
          disabled={disabled}
          onClick={() => act(() => recordUpdate(baseUrl, context))}
          testId="update"
        >
          {texts.update}
        </Button>
        {state.customer ? (
          <Button
            variant="secondary"
            disabled={disabled}
            onClick={() => act(() => recordSync(baseUrl, context))}
            testId="perform-sync"
          >
            {texts.performSync}
          </Button>
        ) : null}
      </ButtonRow>
      <OnlyAllowed texts={texts} canAct={state.can_act} />
    </Flex>
  );
}
