// The Warden policy language.
//
// This grammar is the single source of the concrete syntax. The generated
// parser is used only by compiler/parser.cc, which turns the parse tree into
// Warden's own AST (compiler/ast.h); nothing else sees ANTLR types.
// docs/language.md is the user-facing reference and must follow this file.
grammar Warden;

// ---------------------------------------------------------------- files

file : packageDecl importDecl* declaration* EOF ;

packageDecl : 'package' qualifiedName ;
importDecl  : 'import' qualifiedName ('as' name)? ;

qualifiedName : name ('.' name)* ;

declaration
    : schemaDecl
    | roleDecl
    | separateDecl
    | jitDecl
    | riskDecl
    | limitDecl
    | dataDecl
    | constDecl
    | defDecl
    | challengeDecl
    | policyDecl
    | policySetDecl
    | testDecl
    ;

// ---------------------------------------------------------------- schema

schemaDecl : 'schema' '{' schemaMember* '}' ;

schemaMember
    : 'subject' recordBody                                  # subjectSchema
    | 'resource' name recordBody                            # resourceSchema
    | 'context' recordBody                                  # contextSchema
    | 'actions' '{' actionDecl (',' actionDecl)* ','? '}'   # actionsSchema
    ;

actionDecl : SENSITIVE? name ;

recordBody : '{' (fieldDecl ','?)* '}' ;
fieldDecl  : SENSITIVE? name ':' typeRef ;

typeRef : baseType optional='?'? ;

baseType
    : 'set' '<' typeRef '>'                     # setType
    | 'enum' '{' name (',' name)* ','? '}'      # enumType
    | recordBody                                # recordType
    | name                                      # namedType
    ;

// ---------------------------------------------------------------- roles, SoD, JIT

roleDecl     : 'role' name ('extends' name (',' name)*)? ;
separateDecl : 'separate' name (',' name)+ ;

jitDecl : 'jit' name '{' jitClause* '}' ;
jitClause
    : 'grants' 'role' name (',' name)*          # jitGrants
    | 'max' DURATION                            # jitMax
    | 'approvals' INT 'of' 'role' name          # jitApprovals
    | 'requires' name (',' name)*               # jitRequires
    ;

// ---------------------------------------------------------------- risk, limits, data, helpers

riskDecl   : 'risk' name '{' riskFactor* '}' ;
riskFactor : sign=('+' | '-') INT 'if' expr ;

limitDecl : 'limit' name ':' INT 'per' DURATION 'by' expr (',' expr)* ;
dataDecl  : 'data' name ':' typeRef ;
constDecl : 'const' name (':' typeRef)? '=' expr ;
defDecl   : 'def' name ('(' (param (',' param)*)? ')')? (':' typeRef)? '=' expr ;
param     : name ':' typeRef ;

challengeDecl : 'challenge' name ;

// ---------------------------------------------------------------- policies

policyDecl    : 'policy' name 'on' target=policyTarget ('combine' algorithm=name)? '{' ruleDecl* '}' ;
policyTarget  : '*' | name ;
policySetDecl : 'policyset' name ('combine' algorithm=name)? '{' policySetMember* '}' ;
policySetMember
    : policyDecl                                # nestedPolicy
    | policySetDecl                             # nestedPolicySet
    | 'use' qualifiedName                       # usePolicy
    ;

ruleDecl : 'rule' name ':' effect actionList ('if' condition=expr)? ('because' reason=STRING)? ruleExtra* ;
effect
    : 'permit'                                  # permitEffect
    | 'deny'                                    # denyEffect
    | 'step_up' name                            # stepUpEffect
    ;
actionList
    : '*'                                       # anyAction
    | name                                      # oneAction
    | '[' name (',' name)* ','? ']'             # actionSet
    ;
ruleExtra : kind=('obligation' | 'advice') name ('{' (extraArg (',' extraArg)* ','?)? '}')? ;
extraArg  : name ':' expr ;

// ---------------------------------------------------------------- tests

testDecl : 'test' STRING '{' 'given' given=jsonObject ('data' data=jsonObject)? 'expect' expectation '}' ;
expectation : outcome ('by' name (',' name)*)? ;
outcome
    : 'permit'                                  # expectPermit
    | 'deny'                                    # expectDeny
    | 'not_applicable'                          # expectNotApplicable
    | 'step_up' name                            # expectStepUp
    ;

jsonValue
    : jsonObject
    | jsonArray
    | STRING
    | '-'? (INT | DECIMAL)
    | 'true'
    | 'false'
    | 'null'
    ;
jsonObject : '{' (jsonMember (',' jsonMember)* ','?)? '}' ;
jsonMember : (name | STRING) ':' jsonValue ;
jsonArray  : '[' (jsonValue (',' jsonValue)* ','?)? ']' ;

// ---------------------------------------------------------------- expressions
// Alternatives are listed from the tightest binding to the loosest.

expr
    : primary                                               # primaryExpr
    | expr '.' name '(' arguments? ')'                      # methodCallExpr
    | expr '.' name                                         # memberExpr
    | '-' expr                                              # negateExpr
    | expr op=('*' | '/' | '%') expr                        # multiplyExpr
    | expr op=('+' | '-') expr                              # addExpr
    | expr op=('==' | '!=' | '<' | '<=' | '>' | '>=') expr  # compareExpr
    | expr negated='not'? 'in' expr                         # inExpr
    | expr 'matches' STRING                                 # matchesExpr
    | expr 'has' 'role' qualifiedName                       # hasRoleExpr
    | expr 'has' name                                       # hasAttrExpr
    | 'not' expr                                            # notExpr
    | expr 'and' expr                                       # andExpr
    | expr 'or' expr                                        # orExpr
    | quantifier=('any' | 'all') name 'in' expr ':' expr    # quantifierExpr
    ;

primary
    : literal                                               # literalPrimary
    | exprName '(' arguments? ')'                           # callPrimary
    | exprName                                              # namePrimary
    | '(' expr ')'                                          # parenPrimary
    | '[' (expr (',' expr)* ','?)? ']'                      # setPrimary
    ;

arguments : expr (',' expr)* ;

literal
    : STRING                                                # stringLiteral
    | INT                                                   # intLiteral
    | DECIMAL                                               # decimalLiteral
    | DURATION                                              # durationLiteral
    | 'true'                                                # trueLiteral
    | 'false'                                               # falseLiteral
    ;

// Words that are keywords in one place but ordinary names everywhere else,
// so attributes like `resource.data` or `subject.role` stay writable.
name
    : ID
    | 'subject' | 'resource' | 'context' | 'actions' | 'role' | 'extends' | 'separate'
    | 'jit' | 'grants' | 'max' | 'approvals' | 'of' | 'requires' | 'risk' | 'limit'
    | 'per' | 'by' | 'data' | 'const' | 'def' | 'challenge' | 'policy' | 'policyset'
    | 'on' | 'combine' | 'use' | 'test' | 'given' | 'expect' | 'obligation' | 'advice'
    | 'set' | 'enum' | 'schema' | 'package' | 'import' | 'as' | 'rule' | 'permit' | 'deny'
    | 'step_up' | 'not_applicable' | 'because' | 'any' | 'all' | 'null' | SENSITIVE
    ;

// Names that can start an expression: every name except the words that
// begin a declaration or a rule, so that an expression cut short before the
// next `rule` is reported where it ends rather than one token later.
exprName
    : ID
    | 'subject' | 'resource' | 'context' | 'actions' | 'extends' | 'grants' | 'max'
    | 'approvals' | 'of' | 'requires' | 'risk' | 'per' | 'by' | 'data' | 'on' | 'combine'
    | 'use' | 'given' | 'expect' | 'obligation' | 'advice' | 'set' | 'enum' | 'as' | 'permit'
    | 'deny' | 'step_up' | 'not_applicable' | 'because' | 'any' | 'all' | 'null' | SENSITIVE
    ;

// ---------------------------------------------------------------- lexer

SENSITIVE : 'sensitive' ;

DURATION : DIGITS DURATION_UNIT (DIGITS DURATION_UNIT)* ;
DECIMAL  : DIGITS '.' DIGITS ;
INT      : DIGITS ;
ID       : [a-zA-Z_] [a-zA-Z_0-9]* ;

STRING              : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
UNTERMINATED_STRING : '"' (~["\\\r\n] | '\\' ~[\r\n])* '\\'? ;

LINE_COMMENT               : '//' ~[\r\n]* -> channel(HIDDEN) ;
BLOCK_COMMENT              : '/*' (~'*' | '*'+ ~[*/])* '*'+ '/' -> channel(HIDDEN) ;
UNTERMINATED_BLOCK_COMMENT : '/*' (~'*' | '*'+ ~[*/])* '*'* EOF ;

WS : [ \t\r\n\f]+ -> skip ;

// Anything else becomes a token the parser rejects with a located diagnostic.
UNEXPECTED_CHAR : . ;

fragment DIGITS        : [0-9]+ ;
fragment DURATION_UNIT : 'ms' | 's' | 'm' | 'h' | 'd' ;
