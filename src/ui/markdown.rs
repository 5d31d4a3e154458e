//! Lab instructions for the terminal: Markdown rendered plainly, with headings in bold and code
//! blocks indented. Everything stays readable when piped (no colour, same text).

use super::Shell;

/// Prints Markdown `text` through `shell`.
pub fn print(shell: &Shell, text: &str) {
    let mut in_code = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            shell.line(format_args!("    {}", shell.dim(line)));
        } else if let Some(heading) =
            trimmed.strip_prefix("# ").or_else(|| trimmed.strip_prefix("## ")).or_else(|| trimmed.strip_prefix("### "))
        {
            shell.line(shell.bold(heading));
        } else {
            shell.line(line);
        }
    }
}
