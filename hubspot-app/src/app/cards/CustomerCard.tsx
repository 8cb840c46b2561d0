// Entry point of the Fortnox card on contacts and companies (customer-card-hsmeta.json).
import React from 'react';
import { hubspot } from '@hubspot/ui-extensions';

import { CustomerFigures } from './CustomerFigures';

hubspot.extend<'crm.record.tab'>(({ context }) => <CustomerFigures context={context} />);
