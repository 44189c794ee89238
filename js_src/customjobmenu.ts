/**
 * "Run as Vertex AI CustomJob…" on YAML and JSON files in the file browser:
 * the Run a container form with the file chosen (the form shows what it
 * sets and runs it where the user picks, locally by default). A plugin of
 * its own, so that JupyterLab without a file browser still gets the rest.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';

import { CommandIDs } from './commands';

import { isJobFile } from './customjobfile';

export const RUN_CUSTOMJOB_FILE = 'containerjob:run-customjob-file';

export const customJobFilePlugin: JupyterFrontEndPlugin<void> = {
  id: 'containerjob:customjob-files',
  description:
    'Run a CustomJob file (YAML or JSON) from the file browser as a container job.',
  autoStart: true,
  requires: [IDefaultFileBrowser],
  activate: (app: JupyterFrontEnd, browser: IDefaultFileBrowser): void => {
    const chosen = (): string | null => {
      const item = browser.selectedItems().next();
      return !item.done &&
        item.value.type !== 'directory' &&
        isJobFile(item.value.name)
        ? item.value.path
        : null;
    };
    app.commands.addCommand(RUN_CUSTOMJOB_FILE, {
      label: 'Run as Vertex AI CustomJob…',
      caption:
        'Open the Run a container form with this CustomJob file: see what it sets, override any of it, run it locally or on Vertex AI',
      isVisible: () => chosen() !== null,
      execute: () => {
        const config = chosen();
        if (config !== null) {
          return app.commands.execute(CommandIDs.runContainer, { config });
        }
      }
    });
    app.contextMenu.addItem({
      command: RUN_CUSTOMJOB_FILE,
      selector: '.jp-DirListing-item[data-isdir="false"]',
      rank: 60
    });
  }
};
