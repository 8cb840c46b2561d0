// Pieces both cards show: a document's status tag, the service's message, the outcome of a button,
// the not-connected and error states.
import React from 'react';
import { Alert, ErrorState, Link, LoadingSpinner, StatusTag, Text } from '@hubspot/ui-extensions';

import type { Outcome, StatusCode } from './service';
import type { Texts } from './texts';

type TagVariant = 'danger' | 'warning' | 'info' | 'success' | 'default';

const STATUS_VARIANTS: Record<StatusCode, TagVariant> = {
  paid: 'success',
  overdue: 'danger',
  unpaid: 'warning',
  sent: 'warning',
  booked: 'warning',
  draft: 'default',
  credited: 'default',
  cancelled: 'default',
};

export function DocumentStatus({
  status,
  texts,
  testId,
}: {
  status: StatusCode;
  texts: Texts;
  testId?: string;
}) {
  return (
    <StatusTag variant={STATUS_VARIANTS[status] ?? 'default'} testId={testId}>
      {texts.statuses[status] ?? status}
    </StatusTag>
  );
}

/** The service's own note about the record (`message` and `fix`), when it has one. */
export function ServiceMessage({ message, fix }: { message: string; fix: string }) {
  if (!message) return null;
  return (
    <Alert title={message} variant="warning" testId="message">
      {fix}
    </Alert>
  );
}

/** What the last button did (after a POST, or while the work runs in the background). */
export function OutcomeAlert({ outcome, texts }: { outcome: Outcome | null; texts: Texts }) {
  if (!outcome) return null;
  const variant =
    outcome.status === 'succeeded' ? 'success' : outcome.status === 'failed' ? 'error' : 'info';
  return (
    <Alert
      title={texts.outcomeTitle[outcome.status] ?? outcome.status}
      variant={variant}
      testId="outcome"
    >
      {[outcome.message, outcome.fix].filter(Boolean).join(' ')}
    </Alert>
  );
}

export function NotConnected({
  texts,
  message,
  fix,
  settingsUrl,
}: {
  texts: Texts;
  message: string;
  fix: string;
  settingsUrl: string;
}) {
  return (
    <Alert title={texts.notConnectedTitle} variant="warning" testId="not-connected">
      {[message, fix].filter(Boolean).join(' ') || texts.notConnected}{' '}
      {settingsUrl ? (
        <Link href={{ url: settingsUrl, external: true }} testId="settings-link">
          {texts.openSettings}
        </Link>
      ) : null}
    </Alert>
  );
}

export function Unreachable({ texts, error }: { texts: Texts; error: string }) {
  return (
    <ErrorState title={texts.errorTitle} testId="error">
      <Text>{error}</Text>
      <Text>{texts.errorRetry}</Text>
    </ErrorState>
  );
}

/** A button's failure (the service refused or could not be reached); the card stays. */
export function ActionError({ texts, error }: { texts: Texts; error: string }) {
  if (!error) return null;
  return (
    <Alert title={texts.actionFailed} variant="error" testId="action-error">
      {error}
    </Alert>
  );
}

/** Why the buttons are disabled for this user. */
export function OnlyAllowed({ texts, canAct }: { texts: Texts; canAct: boolean }) {
  if (canAct) return null;
  return (
    <Text variant="microcopy" testId="only-allowed">
      {texts.onlyAllowed}
    </Text>
  );
}

// What a card shows before it has a usable state: no service origin, loading, the service
// unreachable, Fortnox not connected. null once the card shows its own content.
export function cardGate({
  baseUrl,
  state,
  loadError,
  texts,
}: {
  baseUrl: string;
  state: { state: string; message: string; fix: string; settings_url: string } | null;
  loadError: string;
  texts: Texts;
}): React.ReactElement | null {
  if (!baseUrl) return <Unreachable texts={texts} error={texts.noBaseUrl} />;
  if (!state) {
    return loadError ? (
      <Unreachable texts={texts} error={loadError} />
    ) : (
      <LoadingSpinner label={texts.loading} layout="centered" />
    );
  }
  if (state.state === 'not_connected') {
    return (
      <NotConnected
        texts={texts}
        message={state.message}
        fix={state.fix}
        settingsUrl={state.settings_url}
      />
    );
  }
  return null;
}
