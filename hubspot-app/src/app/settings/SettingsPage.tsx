// Entry point of the app's Settings tab in HubSpot (settings-hsmeta.json).
import React from 'react';
import { hubspot } from '@hubspot/ui-extensions';

import { Settings } from './Settings';

hubspot.extend<'settings'>(({ context }) => <Settings context={context} />);
