import * as vscode from 'vscode';
import type { ConfigEnvironment, SecretMetadata } from '../../../daemon/protocol';
import { buildSecretsTree, type GroupNode, type NodeIcon, type SecretsNode } from './secretsTreeModel';

const themeIcon = (icon: NodeIcon): vscode.ThemeIcon =>
  new vscode.ThemeIcon(icon.id, icon.color !== undefined ? new vscode.ThemeColor(icon.color) : undefined);

/** Builds TreeItems from the model's nodes; all the deciding happens in secretsTreeModel.ts. */
export class SecretsTreeProvider implements vscode.TreeDataProvider<SecretsNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private groups: GroupNode[] = [];
  private key = '';
  private data: { environments: readonly ConfigEnvironment[]; secrets: readonly SecretMetadata[] } = { environments: [], secrets: [] };

  /**
   * Replace the rows. Unchanged data does not re-render: a refresh swaps the row objects, and a
   * context-menu command picked during the swap would get no row.
   */
  setData(environments: readonly ConfigEnvironment[], secrets: readonly SecretMetadata[]): void {
    const key = JSON.stringify([environments, secrets]);
    if (key === this.key) return;
    this.key = key;
    this.data = { environments, secrets };
    this.groups = environments.length === 0 && secrets.length === 0 ? [] : buildSecretsTree(environments, secrets, Date.now());
    this.changed.fire();
  }

  get secrets(): readonly SecretMetadata[] {
    return this.data.secrets;
  }

  get environments(): readonly ConfigEnvironment[] {
    return this.data.environments;
  }

  getTreeItem(node: SecretsNode): vscode.TreeItem {
    const collapsible =
      node.kind === 'group'
        ? vscode.TreeItemCollapsibleState.Expanded
        : (node.kind === 'environment' || node.kind === 'secret') && node.children.length > 0
          ? vscode.TreeItemCollapsibleState.Collapsed
          : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = themeIcon(node.icon);
    if ('contextValue' in node) item.contextValue = node.contextValue;
    return item;
  }

  getChildren(node?: SecretsNode): SecretsNode[] {
    if (!node) return this.groups;
    if (node.kind === 'group' || node.kind === 'environment' || node.kind === 'secret') return [...node.children];
    return [];
  }

  dispose(): void {
    this.changed.dispose();
  }
}
