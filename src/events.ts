import { EventEmitter } from 'node:events';

/** Events one part of the app tells the others about, in this process. Payloads hold ids, never credentials. */
export interface AppEventMap {
  /** A user's connection became active (new grant or reconnect). */
  'connection.active': [
    {
      orgId: string;
      userId: string;
      providerId: string;
      providerSlug: string;
      connectionId: string;
      vendorLogin: string | null;
      resumeCallId?: string | undefined;
    },
  ];
  /** A grant for a vendor account new to the user, from an unproven browser: unusable until the user confirms in chat. */
  'connection.held': [
    {
      orgId: string;
      userId: string;
      providerId: string;
      providerSlug: string;
      connectionId: string;
      vendorLogin: string | null;
      resumeCallId?: string | undefined;
    },
  ];
  /** A connect was refused because the vendor account is already connected for `ownerUserId`; nothing stored. */
  'connection.refused': [
    {
      orgId: string;
      userId: string;
      providerId: string;
      providerSlug: string;
      vendorLogin: string | null;
      ownerUserId: string;
    },
  ];
  /** The browser signed in to the chat platform as someone other than the link's user; nothing stored. */
  'connection.signin_mismatch': [
    { orgId: string; userId: string; providerId: string; providerSlug: string; platform: string; signedInAs: string },
  ];
  /** Refresh got `invalid_grant` (or a rejected token could not be refreshed): the user must reconnect. */
  'connection.needs_reauth': [
    { orgId: string; userId: string; providerId: string; providerSlug: string; connectionId: string; reason: string },
  ];
  /** The user refused or the provider failed the connect flow. */
  'connection.failed': [{ orgId: string; userId: string; providerId: string; providerSlug: string; error: string }];
  /** A connection was removed. */
  'connection.removed': [
    { orgId: string; userId: string; providerId: string; providerSlug: string; connectionId: string },
  ];
}

/** Typed in-process event bus; the composition root wires listeners. */
export class AppEvents extends EventEmitter<AppEventMap> {}
