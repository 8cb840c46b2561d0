#!/usr/bin/env node
// Offline validation of this HubSpot project with HubSpot's own parser,
// @hubspot/project-parsing-lib (the library `hs project upload` / `hs project validate` use).
//
// What runs, per config profile (src/hsprofile.<name>.json), exactly as the CLI would:
//   - parseProjectConfig: hsproject.json has name, srcDir, platformVersion; srcDir exists;
//   - isKnownPlatformVersion: the platform version is one the library knows;
//   - validateProfileVariables: every profile variable is a string, number or boolean;
//   - translate(): finds every *-hsmeta.json, parses it, substitutes the profile's ${VARS}
//     (a missing variable is an error), builds the intermediate representation, and validates
//     it: uid format, component directory, one-per-app components, unexpected top-level
//     fields, an app component present, the component type known.
//
// What cannot run offline: the per-component JSON schemas. The library downloads them from
// HubSpot (GET project-components-external/project-schemas/v3/<platformVersion>) with an
// authenticated account. So the download is answered here with LOCAL_SCHEMAS below, a minimal
// structural check of our own (required fields and types taken from HubSpot's documented
// examples), not HubSpot's schemas. For the real ones run, with an authenticated CLI:
//   npx @hubspot/cli project validate --profile production
//
// Exit status 0 when every profile passes, 1 with the library's messages otherwise.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { http } from '@hubspot/local-dev-lib/http';
import {
  parseProjectConfig,
  isKnownPlatformVersion,
  isLegacyProject,
  LATEST_SUPPORTED_PLATFORM_VERSION,
} from '@hubspot/project-parsing-lib/projects';
import {
  getAllHsProfiles,
  loadHsProfileFile,
  validateProfileVariables,
} from '@hubspot/project-parsing-lib/profiles';
import { translate, isTranslationError } from '@hubspot/project-parsing-lib/translate';
import { Components } from '@hubspot/project-parsing-lib/constants';
import { mapToInternalType } from '@hubspot/project-parsing-lib/transform';

const projectDir = path.dirname(fileURLToPath(import.meta.url));

const httpsUrl = { type: 'string', pattern: '^https://[^/\\s]+(/\\S*)?$' };
const stringList = { type: 'array', items: { type: 'string', minLength: 1 } };
const typeDefinition = {
  type: 'object',
  required: ['name', 'type'],
  properties: { name: { type: 'string', minLength: 1 }, type: { type: 'string' } },
};

// Our own minimal schemas (see the header). Component types we do not use accept anything.
const LOCAL_SCHEMAS = {
  APPLICATION: {
    type: 'object',
    required: ['name', 'distribution', 'auth'],
    properties: {
      name: { type: 'string', minLength: 1 },
      distribution: { enum: ['marketplace', 'private'] },
      auth: {
        type: 'object',
        required: ['type', 'redirectUrls', 'requiredScopes'],
        properties: {
          type: { enum: ['oauth', 'static'] },
          redirectUrls: { type: 'array', minItems: 1, items: httpsUrl },
          requiredScopes: stringList,
          optionalScopes: stringList,
          conditionallyRequiredScopes: stringList,
        },
      },
      permittedUrls: {
        type: 'object',
        properties: { fetch: { type: 'array', items: httpsUrl }, iframe: stringList, img: stringList },
      },
      support: {
        type: 'object',
        properties: { supportEmail: { type: 'string', format: 'email' } },
      },
    },
  },
  WEBHOOKS: {
    type: 'object',
    required: ['settings', 'subscriptions'],
    properties: {
      settings: {
        type: 'object',
        required: ['targetUrl', 'maxConcurrentRequests'],
        properties: { targetUrl: httpsUrl, maxConcurrentRequests: { type: 'integer', minimum: 1 } },
      },
      subscriptions: {
        type: 'object',
        properties: {
          crmObjects: {
            type: 'array',
            items: {
              type: 'object',
              required: ['subscriptionType', 'objectType', 'active'],
              properties: {
                subscriptionType: { type: 'string', pattern: '^object\\.' },
                objectType: { type: 'string', minLength: 1 },
                propertyName: { type: 'string', minLength: 1 },
                active: { type: 'boolean' },
              },
              if: { properties: { subscriptionType: { const: 'object.propertyChange' } } },
              then: { required: ['propertyName'] },
            },
          },
          legacyCrmObjects: { type: 'array' },
          hubEvents: { type: 'array' },
        },
      },
    },
  },
  // App cards (src/app/cards/*-hsmeta.json), as HubSpot's examples declare them.
  CARD: {
    type: 'object',
    required: ['name', 'location', 'entrypoint', 'objectTypes'],
    properties: {
      name: { type: 'string', minLength: 1 },
      location: { enum: ['crm.record.tab', 'crm.record.sidebar', 'crm.preview', 'helpdesk.sidebar'] },
      entrypoint: { type: 'string', pattern: '^/app/.+\\.(jsx|tsx)$' },
      objectTypes: {
        type: 'array',
        minItems: 1,
        items: { enum: ['contacts', 'companies', 'deals', 'tickets'] },
      },
    },
  },
  WORKFLOW_ACTION: {
    type: 'object',
    required: ['actionUrl', 'supportedClients', 'objectTypes', 'labels'],
    properties: {
      actionUrl: httpsUrl,
      isPublished: { type: 'boolean' },
      supportedClients: {
        type: 'array',
        minItems: 1,
        items: { type: 'object', required: ['client'], properties: { client: { type: 'string' } } },
      },
      objectTypes: stringList,
      inputFields: {
        type: 'array',
        items: { type: 'object', required: ['typeDefinition'], properties: { typeDefinition } },
      },
      outputFields: {
        type: 'array',
        items: { type: 'object', required: ['typeDefinition'], properties: { typeDefinition } },
      },
      labels: {
        type: 'object',
        required: ['en'],
        additionalProperties: {
          type: 'object',
          required: ['actionName'],
          properties: { actionName: { type: 'string', minLength: 1 } },
        },
      },
    },
  },
};

function localSchemas() {
  const schemas = {};
  for (const userFacingType of Object.keys(Components)) {
    schemas[mapToInternalType(userFacingType)] = {};
  }
  return { ...schemas, ...LOCAL_SCHEMAS };
}

// Answer the library's schema download locally; nothing else may go to the network.
http.get = async (_accountId, options) => {
  const url = String(options?.url ?? '');
  if (url.startsWith('project-components-external/project-schemas/')) {
    return { data: localSchemas() };
  }
  throw new Error(`validate.mjs runs offline; refused a request to ${url}`);
};

function fail(lines) {
  for (const line of lines) console.error(line);
  process.exit(1);
}

let projectConfig;
try {
  projectConfig = parseProjectConfig(projectDir);
} catch (error) {
  fail([`hsproject.json: ${error.message}`]);
}
const { platformVersion } = projectConfig;
if (!isKnownPlatformVersion(platformVersion) || isLegacyProject(platformVersion)) {
  fail([
    `hsproject.json: platformVersion "${platformVersion}" is not a supported project platform ` +
      `version (latest: ${LATEST_SUPPORTED_PLATFORM_VERSION}).`,
  ]);
}

const projectSourceDir = path.join(projectDir, projectConfig.srcDir);
const profiles = (await getAllHsProfiles(projectSourceDir)).sort();
if (profiles.length === 0) {
  fail([`No hsprofile.<name>.json in ${projectConfig.srcDir}/: the hsmeta files use \${VARIABLES}.`]);
}

const problems = [];
for (const profile of profiles) {
  const label = `profile "${profile}"`;
  try {
    const contents = loadHsProfileFile(projectSourceDir, profile);
    const checked = validateProfileVariables(contents.variables ?? {}, profile);
    if (!checked.success) {
      problems.push(`${label}:`, ...checked.errors.map(e => `  ${e}`));
      continue;
    }
    const { intermediateRepresentation, skippedHsMetaFiles } = await translate(
      { projectSourceDir, platformVersion, accountId: contents.accountId || 1 },
      { profile },
    );
    if (skippedHsMetaFiles.length > 0) {
      problems.push(
        `${label}: hsmeta files outside a component directory (HubSpot would skip them):`,
        ...skippedHsMetaFiles.map(file => `  ${file}`),
      );
      continue;
    }
    const leftover = JSON.stringify(intermediateRepresentation.intermediateNodesIndexedByUid)
      .match(/\$\{[^}]*\}/g);
    if (leftover) {
      problems.push(`${label}: unsubstituted variables ${[...new Set(leftover)].join(', ')}`);
      continue;
    }
    const nodes = Object.values(intermediateRepresentation.intermediateNodesIndexedByUid);
    const summary = nodes.map(n => `${n.componentType}:${n.uid}`).sort().join(', ');
    console.log(`${label}: OK, ${nodes.length} components (${summary})`);
    if (!contents.accountId) {
      console.log(
        `  note: accountId is not set in hsprofile.${profile}.json; ` +
          `set it (hs project profile add ${profile}) before uploading with this profile.`,
      );
    }
  } catch (error) {
    if (isTranslationError(error)) {
      problems.push(`${label}: ${error.toString()}`);
    } else {
      problems.push(`${label}: ${error.message}`);
    }
  }
}

if (problems.length > 0) fail(problems);
console.log(
  `HubSpot project "${projectConfig.name}" (platform ${platformVersion}) is valid for ` +
    `${profiles.length} profile(s) [offline: structure, profiles and local schemas; ` +
    `HubSpot's own component schemas need \`hs project validate\` with an account].`,
);
