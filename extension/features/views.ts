import * as vscode from 'vscode';
import { Views } from '../ids';

/** An empty tree: VS Code then shows the view's welcome content from package.json `viewsWelcome`. */
class WelcomeOnlyTreeProvider implements vscode.TreeDataProvider<never> {
  getTreeItem(node: never): vscode.TreeItem {
    return node;
  }

  getChildren(): never[] {
    return [];
  }
}

/**
 * The views whose feature is not built yet. Each shows its welcome (what it will show, with links)
 * until its feature registers a real provider: then its line goes from here to that feature's
 * `register<Feature>()` call in extension.ts.
 */
export function registerViews(ctx: vscode.ExtensionContext): void {
  const empty = new WelcomeOnlyTreeProvider();
  ctx.subscriptions.push(
    vscode.window.registerTreeDataProvider(Views.slo, empty),
    vscode.window.registerTreeDataProvider(Views.incidents, empty),
    vscode.window.registerTreeDataProvider(Views.dr, empty),
    vscode.window.registerTreeDataProvider(Views.secrets, empty),
    vscode.window.registerTreeDataProvider(Views.governance, empty),
  );
}
