import * as vscode from 'vscode';
import { GetIncident, type IncidentSummary } from '../../../daemon/protocol';
import type { DaemonSession } from '../../daemon/connection';
import { errorText } from './incidentActions';
import { buildIncidentDetails, buildIncidentTree, type IncidentGroupNode, type IncidentsNode, type NodeIcon } from './incidentsTreeModel';
import type { OncallGroupNode, OncallRoleNode } from './oncallModel';

/** Every row of the view: the on-call rows, then the incident rows. */
export type IncidentsViewNode = IncidentsNode | OncallGroupNode | OncallRoleNode;

const themeIcon = (icon: NodeIcon): vscode.ThemeIcon =>
  new vscode.ThemeIcon(icon.id, icon.color !== undefined ? new vscode.ThemeColor(icon.color) : undefined);

/**
 * Builds TreeItems from the model's nodes; all the deciding happens in incidentsTreeModel.ts and
 * oncallModel.ts. An incident's children (people, services, timeline) are fetched with
 * `incidents/get` when expanded.
 */
export class IncidentsTreeProvider implements vscode.TreeDataProvider<IncidentsViewNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private incidents: readonly IncidentSummary[] = [];
  private groups: IncidentGroupNode[] = [];
  private key = '';
  private oncall: OncallGroupNode | undefined;
  private oncallKey = '';

  constructor(
    private readonly session: DaemonSession,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /**
   * Replace the rows. Unchanged data does not re-render: a refresh swaps the row objects, and a
   * context-menu command picked during the swap would get no row.
   */
  setIncidents(incidents: readonly IncidentSummary[], { force = false }: { force?: boolean } = {}): void {
    const key = JSON.stringify(incidents);
    if (!force && key === this.key) return;
    this.key = key;
    this.incidents = incidents;
    this.groups = buildIncidentTree(incidents, Date.now());
    this.changed.fire();
  }

  /** Replace the "On call now" row (undefined: no row, e.g. while disconnected). */
  setOncall(node: OncallGroupNode | undefined): void {
    const key = JSON.stringify(node ?? null);
    if (key === this.oncallKey) return;
    this.oncallKey = key;
    this.oncall = node;
    this.changed.fire();
  }

  get oncallNode(): OncallGroupNode | undefined {
    return this.oncall;
  }

  get current(): readonly IncidentSummary[] {
    return this.incidents;
  }

  get tree(): readonly IncidentGroupNode[] {
    return this.groups;
  }

  getTreeItem(node: IncidentsViewNode): vscode.TreeItem {
    switch (node.kind) {
      case 'oncall':
      case 'oncallRole': {
        const expandable = node.children.length > 0;
        const state = !expandable ? vscode.TreeItemCollapsibleState.None : node.kind === 'oncall' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed;
        const item = new vscode.TreeItem(node.label, state);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = themeIcon(node.icon);
        item.contextValue = node.kind === 'oncall' ? 'oncallGroup' : 'oncallRole';
        return item;
      }
      case 'group': {
        const item = new vscode.TreeItem(node.label, node.expanded ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = themeIcon(node.icon);
        item.contextValue = 'incidentGroup';
        return item;
      }
      case 'incident': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = themeIcon(node.icon);
        item.contextValue = node.contextValue;
        item.accessibilityInformation = { label: `${node.label}, ${node.severity}, ${node.description}` };
        return item;
      }
      case 'detail': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.id = node.id;
        item.description = node.description;
        item.tooltip = node.tooltip;
        item.iconPath = themeIcon(node.icon);
        return item;
      }
    }
  }

  async getChildren(node?: IncidentsViewNode): Promise<IncidentsViewNode[]> {
    if (!node) return this.oncall ? [this.oncall, ...this.groups] : this.groups;
    if (node.kind === 'oncall' || node.kind === 'oncallRole') return [...node.children];
    if (node.kind === 'group') return [...node.children];
    if (node.kind === 'detail') return [];
    try {
      const incident = await this.session.request(GetIncident, { id: node.incidentId });
      return buildIncidentDetails(incident, Date.now());
    } catch (e) {
      this.log.warn(`Incidents view: incidents/get ${node.number} failed: ${errorText(e)}`);
      return [
        {
          kind: 'detail',
          id: `${node.id}:error`,
          label: `Could not load the timeline: ${errorText(e)}`,
          description: '',
          tooltip: errorText(e),
          icon: { id: 'error', color: 'errorForeground' },
        },
      ];
    }
  }

  getParent(node: IncidentsViewNode): IncidentsViewNode | undefined {
    if (node.kind === 'oncallRole') return this.oncall;
    if (node.kind !== 'incident') return undefined;
    return this.groups.find((g) => g.children.some((c) => c.id === node.id));
  }

  dispose(): void {
    this.changed.dispose();
  }
}
