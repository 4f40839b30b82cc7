/**
 * Which dropped files belong together: NIfTI images and label maps are paired by name, the way
 * datasets are usually laid out:
 * - `case.nii.gz` with `case_label.nii.gz` (also `_labels`, `_seg`, `_segmentation`, `_mask`,
 *   `_gt`, after `_`, `-` or `.`);
 * - `imagesTr/case.nii.gz` with `labelsTr/case.nii.gz` (a folder whose name holds "label", "seg"
 *   or "mask" holds label maps; folders arrive when a folder is dropped);
 * - nnU-Net's `case_0000.nii.gz` (the first channel) with `case.nii.gz`.
 * Files that are not NIfTI are set aside, and any file left without a partner is an error that
 * names it and says how to name its partner.
 */

export const NIFTI_NAME = /\.nii(\.gz)?$/i;
const LABEL_SUFFIX = /[_.-](labels?|seg|segmentation|mask|gt)$/i;
const LABEL_FOLDER = /label|seg|mask/i;
const IMAGE_SUFFIX = /_(0000|image|img)$/i;

export interface PairedFiles<T> {
  /** One pair per case, sorted by case name. */
  pairs: { name: string; image: T; label: T }[];
  /** Paths of the files that are not NIfTI (ignored). */
  ignored: string[];
}

/** The role and case name of one file, from its path ("folder/name.nii.gz"). */
export function fileRole(path: string): { role: 'image' | 'label'; name: string } {
  const parts = path.split('/').filter((p) => p !== '');
  const stem = parts[parts.length - 1].replace(NIFTI_NAME, '');
  const folders = parts.slice(0, -1);
  if (LABEL_SUFFIX.test(stem)) return { role: 'label', name: stem.replace(LABEL_SUFFIX, '') };
  if (folders.length > 0 && LABEL_FOLDER.test(folders[folders.length - 1])) return { role: 'label', name: stem };
  // An image named like its label map's case plus a channel or "image" suffix.
  return { role: 'image', name: stem.replace(IMAGE_SUFFIX, '') };
}

/** Pairs `files` (paths given by `pathOf`); throws an Error naming every file it cannot pair. */
export function pairFiles<T>(files: readonly T[], pathOf: (file: T) => string): PairedFiles<T> {
  const ignored: string[] = [];
  const images = new Map<string, { path: string; file: T }>();
  const labels = new Map<string, { path: string; file: T }>();
  const problems: string[] = [];
  for (const file of files) {
    const path = pathOf(file);
    if (!NIFTI_NAME.test(path)) {
      ignored.push(path);
      continue;
    }
    const { role, name } = fileRole(path);
    const into = role === 'image' ? images : labels;
    const before = into.get(name);
    if (before) problems.push(`'${before.path}' and '${path}' are both the ${role} of case '${name}'`);
    else into.set(name, { path, file });
  }
  if (images.size === 0 && labels.size === 0)
    throw new Error(
      `no NIfTI files (.nii or .nii.gz) among ${files.length} file(s)${ignored.length ? `: ${ignored.join(', ')}` : ''}`,
    );
  for (const [name, image] of images)
    if (!labels.has(name))
      problems.push(
        `image '${image.path}' has no label map (name it '${name}_label.nii.gz', or put it in a labels folder)`,
      );
  for (const [name, label] of labels)
    if (!images.has(name))
      problems.push(`label map '${label.path}' has no image (expected an image named '${name}.nii.gz')`);
  if (problems.length) throw new Error(problems.join('; '));
  const pairs = [...images.keys()].sort().map((name) => ({
    name,
    image: images.get(name)!.file,
    label: labels.get(name)!.file,
  }));
  return { pairs, ignored };
}
