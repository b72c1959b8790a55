/**
 * Every id the extension shares with package.json `contributes`: commands, views, settings, context
 * keys and webview panel types. scripts/checkContributes.mjs evaluates this file and fails the build
 * when it and package.json drift apart, so a renamed id cannot silently break a menu or a view.
 * This file imports nothing: the check script loads it on its own.
 */

/** Category every command shows in the Command Palette. */
export const COMMAND_CATEGORY = 'CogniForge';

export const Commands = {
  startDaemon: 'cogniforge.startDaemon',
  stopDaemon: 'cogniforge.stopDaemon',
  restartDaemon: 'cogniforge.restartDaemon',
  showLog: 'cogniforge.showLog',
  openOverview: 'cogniforge.openOverview',
  showDaemonActions: 'cogniforge.showDaemonActions',
  refreshEvents: 'cogniforge.refreshEvents',
  openEventsDashboard: 'cogniforge.openEventsDashboard',
  inspectEvent: 'cogniforge.inspectEvent',
  pauseEventTail: 'cogniforge.pauseEventTail',
  resumeEventTail: 'cogniforge.resumeEventTail',
  filterEventTail: 'cogniforge.filterEventTail',
  clearEventTail: 'cogniforge.clearEventTail',
  retryDeadLetter: 'cogniforge.retryDeadLetter',
  retryAllDeadLetters: 'cogniforge.retryAllDeadLetters',
  discardDeadLetter: 'cogniforge.discardDeadLetter',
  startChaosExperiment: 'cogniforge.startChaosExperiment',
  stopChaosExperiment: 'cogniforge.stopChaosExperiment',
  resetBreaker: 'cogniforge.resetBreaker',
  replayEvents: 'cogniforge.replayEvents',
  refreshSlos: 'cogniforge.refreshSlos',
  createSlo: 'cogniforge.createSlo',
  importSlo: 'cogniforge.importSlo',
  openSloDashboard: 'cogniforge.openSloDashboard',
  editSlo: 'cogniforge.editSlo',
  deleteSlo: 'cogniforge.deleteSlo',
  exportSlo: 'cogniforge.exportSlo',
  refreshIncidents: 'cogniforge.refreshIncidents',
  createIncident: 'cogniforge.createIncident',
  acknowledgeIncident: 'cogniforge.acknowledgeIncident',
  changeIncidentStatus: 'cogniforge.changeIncidentStatus',
  resolveIncident: 'cogniforge.resolveIncident',
  addIncidentNote: 'cogniforge.addIncidentNote',
  changeIncidentSeverity: 'cogniforge.changeIncidentSeverity',
  assignIncident: 'cogniforge.assignIncident',
  openIncident: 'cogniforge.openIncident',
  writeIncidentReview: 'cogniforge.writeIncidentReview',
  refreshDr: 'cogniforge.refreshDr',
  startDrDrill: 'cogniforge.startDrDrill',
  startDrFailover: 'cogniforge.startDrFailover',
  verifyBackups: 'cogniforge.verifyBackups',
  refreshSecrets: 'cogniforge.refreshSecrets',
  rotateSecret: 'cogniforge.rotateSecret',
  revealSecret: 'cogniforge.revealSecret',
  rollbackSecret: 'cogniforge.rollbackSecret',
  createSecret: 'cogniforge.createSecret',
  deleteSecret: 'cogniforge.deleteSecret',
  setConfigValue: 'cogniforge.setConfigValue',
  showConfigHistory: 'cogniforge.showConfigHistory',
  compareConfigEnvironments: 'cogniforge.compareConfigEnvironments',
  rollbackConfigValue: 'cogniforge.rollbackConfigValue',
  auditContracts: 'cogniforge.auditContracts',
  auditFile: 'cogniforge.auditFile',
  advanceVersion: 'cogniforge.advanceVersion',
  compareContract: 'cogniforge.compareContract',
  openGovernanceDashboard: 'cogniforge.openGovernanceDashboard',
} as const;
export type CommandId = (typeof Commands)[keyof typeof Commands];

/** The activity-bar container. */
export const VIEW_CONTAINER = 'cogniforge';

export const Views = {
  slo: 'cogniforge.slo',
  incidents: 'cogniforge.incidents',
  dr: 'cogniforge.dr',
  secrets: 'cogniforge.secrets',
  governance: 'cogniforge.governance',
  contractChanges: 'cogniforge.contractChanges',
  events: 'cogniforge.events',
} as const;
export type ViewId = (typeof Views)[keyof typeof Views];

/** Full setting ids, as `contributes.configuration` declares them. */
export const Settings = {
  port: 'cogniforge.daemon.port',
  dataDir: 'cogniforge.daemon.dataDir',
  autoStart: 'cogniforge.daemon.autoStart',
  nodePath: 'cogniforge.daemon.nodePath',
  governanceSpecGlob: 'cogniforge.governance.specGlob',
  governanceAuditOnSave: 'cogniforge.governance.auditOnSave',
  oncallHandle: 'cogniforge.oncall.handle',
} as const;
export type SettingId = (typeof Settings)[keyof typeof Settings];

/** Section every daemon setting lives under (`cogniforge.daemon.*`). */
export const DAEMON_SETTINGS_SECTION = 'cogniforge.daemon';

/** Context keys for `when` clauses in package.json. */
export const ContextKeys = {
  /** true while a daemon connection is up. */
  connected: 'cogniforge.connected',
  /** The connection state in words: connecting, starting, connected, reconnecting, stopped. */
  connectionState: 'cogniforge.connectionState',
} as const;

/** Webview panel types; each has an `onWebviewPanel:<type>` activation event and a serializer. */
export const WebviewPanels = {
  overview: 'cogniforge.overview',
  sloDashboard: 'cogniforge.sloDashboard',
  incident: 'cogniforge.incident',
  eventsDashboard: 'cogniforge.eventsDashboard',
  governanceDashboard: 'cogniforge.governanceDashboard',
} as const;
export type WebviewPanelType = (typeof WebviewPanels)[keyof typeof WebviewPanels];

/** Name of the LogOutputChannel. */
export const LOG_CHANNEL_NAME = 'CogniForge';
