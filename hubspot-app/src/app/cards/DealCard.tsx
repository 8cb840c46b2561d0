// Entry point of the Fortnox card on deals (deal-card-hsmeta.json).
import React from 'react';
import { hubspot } from '@hubspot/ui-extensions';

import { DealDocuments } from './DealDocuments';

hubspot.extend<'crm.record.tab'>(({ context }) => <DealDocuments context={context} />);
