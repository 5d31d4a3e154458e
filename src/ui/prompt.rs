//! Questions to a person at a terminal. [`Prompter`] is the seam: [`Terminal`] asks with
//! dialoguer, tests answer with a script. Nothing here decides *whether* to ask.

use console::Term;
use dialoguer::theme::ColorfulTheme;

/// Why a question got no answer.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("interrupted")]
    Interrupted,
    #[error("cannot ask on the terminal: {0}")]
    Terminal(String),
}

/// The questions labforge asks.
pub trait Prompter {
    /// Pick one of `choices`; returns its index.
    fn select(&mut self, question: &str, choices: &[String], default: usize) -> Result<usize, PromptError>;
    /// Pick any of `choices`; returns the chosen indices.
    fn multi_select(&mut self, question: &str, choices: &[String], checked: &[bool])
    -> Result<Vec<usize>, PromptError>;
    /// Free text, checked by `validate` before it is accepted.
    fn input(
        &mut self,
        question: &str,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, PromptError>;
    /// Yes or no.
    fn confirm(&mut self, question: &str, default: bool) -> Result<bool, PromptError>;
}

/// Asks on stderr's terminal with dialoguer.
pub struct Terminal {
    term: Term,
    theme: ColorfulTheme,
}

impl Default for Terminal {
    fn default() -> Self {
        Terminal { term: Term::stderr(), theme: ColorfulTheme::default() }
    }
}

fn answer<T>(result: dialoguer::Result<Option<T>>) -> Result<T, PromptError> {
    match result {
        Ok(Some(value)) => Ok(value),
        // Esc or `q` abandons the question like Ctrl-C would.
        Ok(None) => Err(PromptError::Interrupted),
        Err(dialoguer::Error::IO(err)) if err.kind() == std::io::ErrorKind::Interrupted => {
            Err(PromptError::Interrupted)
        }
        Err(err) => Err(PromptError::Terminal(err.to_string())),
    }
}

impl Prompter for Terminal {
    fn select(&mut self, question: &str, choices: &[String], default: usize) -> Result<usize, PromptError> {
        answer(
            dialoguer::Select::with_theme(&self.theme)
                .with_prompt(question)
                .items(choices)
                .default(default)
                .interact_on_opt(&self.term),
        )
    }

    fn multi_select(
        &mut self,
        question: &str,
        choices: &[String],
        checked: &[bool],
    ) -> Result<Vec<usize>, PromptError> {
        answer(
            dialoguer::MultiSelect::with_theme(&self.theme)
                .with_prompt(format!("{question} (space toggles, enter accepts)"))
                .items(choices)
                .defaults(checked)
                .interact_on_opt(&self.term),
        )
    }

    fn input(
        &mut self,
        question: &str,
        default: &str,
        validate: &dyn Fn(&str) -> Result<(), String>,
    ) -> Result<String, PromptError> {
        let result = dialoguer::Input::<String>::with_theme(&self.theme)
            .with_prompt(question)
            .default(default.to_string())
            .validate_with(|text: &String| validate(text))
            .interact_text_on(&self.term);
        answer(result.map(Some))
    }

    fn confirm(&mut self, question: &str, default: bool) -> Result<bool, PromptError> {
        answer(
            dialoguer::Confirm::with_theme(&self.theme)
                .with_prompt(question)
                .default(default)
                .interact_on_opt(&self.term),
        )
    }
}
