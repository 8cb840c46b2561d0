// The app's Settings tab in HubSpot (Connected apps → Fortnox for HubSpot → Settings; registered
// by SettingsPage.tsx): the connection state, and a button that opens the full settings page on
// the service through a single-use sign-in link (way 2 in, issue 14). Every setting lives there.
// The service's origin is the project profile's PUBLIC_BASE_URL (context.variables).
import React, { useCallback, useEffect, useState } from 'react';
import {
  Alert,
  Button,
  DescriptionList,
  DescriptionListItem,
  Flex,
  LoadingSpinner,
  Text,
} from '@hubspot/ui-extensions';
import type { SettingsContext } from '@hubspot/ui-extensions';

import { connectionStatusGet, signInLinkCreate } from './service';
import type { ConnectionStatus, SignInLink } from './service';
import { textsFor } from './texts';

// A link lives 5 minutes on the service; a fresh one is asked for a little before that.
const REFRESH_MARGIN_S = 30;

export function Settings({ context }: { context: SettingsContext }) {
  const texts = textsFor(context.user.locale || context.user.language || 'en');
  const baseUrl = String(context.variables?.PUBLIC_BASE_URL ?? '').replace(/\/$/, '');
  const locale = context.user.locale || context.user.language || '';
  const [status, setStatus] = useState<ConnectionStatus | null>(null);
  const [link, setLink] = useState<SignInLink | null>(null);
  const [failure, setFailure] = useState('');

  const linkRefresh = useCallback(() => {
    setLink(null);
    signInLinkCreate(baseUrl, locale).then(setLink, (error: Error) => setFailure(error.message));
  }, [baseUrl, locale]);

  useEffect(() => {
    if (!baseUrl) {
      setFailure(texts.noBaseUrl);
      return;
    }
    connectionStatusGet(baseUrl).then(setStatus, (error: Error) => setFailure(error.message));
    linkRefresh();
  }, [baseUrl, linkRefresh, texts.noBaseUrl]);

  useEffect(() => {
    if (!link) return undefined;
    const timer = setTimeout(linkRefresh, Math.max(link.expires_in - REFRESH_MARGIN_S, 5) * 1000);
    return () => clearTimeout(timer);
  }, [link, linkRefresh]);

  if (failure) {
    return (
      <Alert title={texts.unreachableTitle} variant="error">
        {texts.unreachable} ({failure})
      </Alert>
    );
  }
  if (!status) {
    return <LoadingSpinner label={texts.loading} />;
  }
  const connected = status.fortnox.status === 'connected';
  return (
    <Flex direction="column" gap="md">
      {status.problem ? (
        <Alert title={status.problem} variant="warning" testId="problem">
          {status.fix}
        </Alert>
      ) : null}
      <DescriptionList direction="column">
        <DescriptionListItem label={texts.fortnox}>
          <Text testId="fortnox-state">
            {connected
              ? `${texts.connectedTo} ${status.fortnox.company_name} (${status.fortnox.organisation_number})`
              : texts.notConnected}
          </Text>
        </DescriptionListItem>
      </DescriptionList>
      <Text>{texts.explain}</Text>
      {link ? (
        // The link works once: after a click the next one is fetched for the next click.
        <Button variant="primary" href={{ url: link.url, external: true }} onClick={linkRefresh} testId="open">
          {texts.open}
        </Button>
      ) : (
        <Button variant="primary" disabled testId="open">
          {texts.open}
        </Button>
      )}
    </Flex>
  );
}
